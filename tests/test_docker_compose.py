"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the services
are wired as the design says, and every variable they use is one the app knows."""

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# ${NAME}, ${NAME:-default}, ${NAME:?message}; `$${...}` is compose's escaped literal.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


def command_line(service):
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def strings_in(node):
    """Every string value in the parsed YAML (comments are not values)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def variables_read_by_settings():
    """Names passed to the env_* readers in settings.py, and their *_FILE forms."""
    tree = ast.parse((REPO_ROOT / "mlsys_reader" / "settings.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names | {f"{name}_FILE" for name in names}


def variables_documented_in_readme():
    """Backticked names in the first column of README's "Configuration" table."""
    readme = REPO_ROOT / "README.md"
    if not readme.exists():
        return set()
    names = set()
    in_section = False
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            in_section = "configuration" in line.lower()
        elif in_section:
            match = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)
            if match:
                names.add(match.group(1))
    return names


def test_settings_parser_finds_the_variables_of_the_design():
    # Guards the consistency checks below against passing because nothing was parsed.
    assert {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "HTTPS"} <= (
        variables_read_by_settings()
    )


def test_compose_defines_db_web_and_worker(services):
    assert sorted(services) == ["db", "web", "worker"]


def test_db_is_postgres_with_a_healthcheck_and_a_volume(compose, services):
    db = services["db"]
    assert db["image"].split(":")[0] == "postgres"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data"
    assert volume[0] in compose["volumes"]


def test_web_migrates_then_runs_gunicorn_on_port_8000(services):
    command = command_line(services["web"])
    assert "manage.py migrate" in command
    assert "gunicorn mlsys_reader.wsgi" in command
    assert command.index("manage.py migrate") < command.index("gunicorn")
    assert "--bind 0.0.0.0:8000" in command
    assert [port.split(":")[-1] for port in services["web"]["ports"]] == ["8000"]


def test_worker_runs_db_worker_from_the_same_image(services):
    assert command_line(services["worker"]) == "python manage.py db_worker"
    assert services["worker"]["image"] == services["web"]["image"]
    assert services["worker"]["build"] == services["web"]["build"] == "."


def test_web_and_worker_wait_for_a_healthy_db(services):
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["db"] == {"condition": "service_healthy"}


def test_web_and_worker_share_one_environment(services):
    assert services["web"]["environment"] == services["worker"]["environment"]


def test_database_url_points_at_the_db_service_with_its_credentials(services):
    url = urlsplit(services["web"]["environment"]["DATABASE_URL"])
    db_env = services["db"]["environment"]
    assert (url.scheme, url.hostname, url.port) == ("postgres", "db", 5432)
    assert (url.username, url.password, url.path) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        "/" + db_env["POSTGRES_DB"],
    )


def test_secret_key_must_be_given_and_debug_stays_off(services):
    environment = services["web"]["environment"]
    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert "DEBUG" not in environment
    assert environment["HTTPS"] == "false"


def test_app_environment_names_only_variables_settings_read(services):
    unknown = set(services["web"]["environment"]) - variables_read_by_settings()
    assert unknown == set()


def test_every_interpolated_variable_is_documented_or_read_by_settings(compose):
    referenced = {name for value in strings_in(compose) for name in INTERPOLATION.findall(value)}
    assert "SECRET_KEY" in referenced
    known = variables_read_by_settings() | variables_documented_in_readme()
    assert referenced - known == set()


def test_dockerfile_builds_static_files_and_runs_gunicorn_as_non_root():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.split(None, 1)
        for line in dockerfile.splitlines()
        if line.strip() and not line.startswith((" ", "#"))
    ]
    assert instructions[0] == ["FROM", "python:3.13-slim"]
    assert "pip install -r requirements.txt" in dockerfile
    assert "manage.py collectstatic --noinput" in dockerfile
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert instructions[-1][0] == "CMD"
    assert instructions[-1][1].startswith('["gunicorn", "mlsys_reader.wsgi"')
