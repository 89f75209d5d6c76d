"""The environment contract: the typed readers in mlsys_reader.lib.env, and the settings
module as a whole, imported in a fresh interpreter with a controlled environment."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from mlsys_reader.lib.env import env_bool, env_float, env_int, env_list, env_str, env_url

REPO_ROOT = Path(__file__).resolve().parent.parent


# --- env_str and the *_FILE secrets ---------------------------------------------------


def test_env_str_unset_gives_default():
    assert env_str("NAME", "fallback", environ={}) == "fallback"
    assert env_str("NAME", environ={}) is None


def test_env_str_empty_or_blank_counts_as_unset():
    assert env_str("NAME", "fallback", environ={"NAME": ""}) == "fallback"
    assert env_str("NAME", "fallback", environ={"NAME": "   "}) == "fallback"


def test_env_str_strips_surrounding_whitespace():
    assert env_str("NAME", "fallback", environ={"NAME": "  value \n"}) == "value"


def test_secret_is_read_from_name_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-from-a-file\n", encoding="utf-8")
    environ = {"SECRET_KEY_FILE": str(secret)}
    assert env_str("SECRET_KEY", environ=environ) == "s3cret-from-a-file"


def test_secret_file_is_used_when_the_variable_is_blank(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-file", encoding="utf-8")
    environ = {"SECRET_KEY": " ", "SECRET_KEY_FILE": str(secret)}
    assert env_str("SECRET_KEY", environ=environ) == "from-file"


def test_variable_wins_over_name_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-file", encoding="utf-8")
    environ = {"SECRET_KEY": "from-env", "SECRET_KEY_FILE": str(secret)}
    assert env_str("SECRET_KEY", environ=environ) == "from-env"


def test_unreadable_name_file_is_refused_naming_the_file_variable(tmp_path):
    missing = tmp_path / "no-such-file"
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(missing)})
    message = str(excinfo.value)
    assert message.startswith("SECRET_KEY_FILE: ")
    assert str(missing) in message


def test_typed_readers_also_read_name_file(tmp_path):
    port = tmp_path / "port"
    port.write_text("2525\n", encoding="utf-8")
    assert env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT_FILE": str(port)}) == 2525


# --- env_bool -------------------------------------------------------------------------


def test_env_bool_unset_gives_default():
    assert env_bool("DEBUG", False, environ={}) is False
    assert env_bool("DEBUG", True, environ={"DEBUG": ""}) is True


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " yes "])
def test_env_bool_true_spellings(value):
    assert env_bool("DEBUG", False, environ={"DEBUG": value}) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "Off"])
def test_env_bool_false_spellings(value):
    assert env_bool("DEBUG", True, environ={"DEBUG": value}) is False


@pytest.mark.parametrize("value", ["maybe", "2", "y", "truee"])
def test_env_bool_malformed_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_bool("DEBUG", False, environ={"DEBUG": value})
    assert str(excinfo.value).startswith(f"DEBUG={value!r} is not a boolean")


# --- env_int --------------------------------------------------------------------------


def test_env_int_unset_gives_default():
    assert env_int("HTTP_TIMEOUT", 20, environ={}) == 20


def test_env_int_reads_a_whole_number():
    assert env_int("HTTP_TIMEOUT", 20, minimum=1, environ={"HTTP_TIMEOUT": " 45 "}) == 45


@pytest.mark.parametrize("value", ["ten", "1.5", "20s"])
def test_env_int_malformed_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_int("HTTP_TIMEOUT", 20, environ={"HTTP_TIMEOUT": value})
    assert str(excinfo.value) == f"HTTP_TIMEOUT={value!r} is not a whole number"


def test_env_int_below_minimum_is_refused_naming_the_variable():
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_int("HTTP_TIMEOUT", 20, minimum=1, environ={"HTTP_TIMEOUT": "0"})
    assert str(excinfo.value) == "HTTP_TIMEOUT=0 must be at least 1"


# --- env_float ------------------------------------------------------------------------


def test_env_float_default_and_value():
    assert env_float("ARXIV_MIN_INTERVAL", 3.0, environ={}) == 3.0
    assert env_float("ARXIV_MIN_INTERVAL", 3.0, environ={"ARXIV_MIN_INTERVAL": "0.5"}) == 0.5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "ARXIV_MIN_INTERVAL='soon' is not a number"),
        ("nan", "ARXIV_MIN_INTERVAL='nan' is not a finite number"),
        ("inf", "ARXIV_MIN_INTERVAL='inf' is not a finite number"),
        ("-1", "ARXIV_MIN_INTERVAL=-1.0 must be at least 0"),
    ],
)
def test_env_float_malformed_is_refused_naming_the_variable(value, message):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_float("ARXIV_MIN_INTERVAL", 3.0, minimum=0, environ={"ARXIV_MIN_INTERVAL": value})
    assert str(excinfo.value) == message


# --- env_list -------------------------------------------------------------------------


def test_env_list_unset_gives_a_copy_of_the_default():
    default = ["localhost", "127.0.0.1"]
    hosts = env_list("ALLOWED_HOSTS", default, environ={})
    assert hosts == ["localhost", "127.0.0.1"]
    hosts.append("example.org")
    assert default == ["localhost", "127.0.0.1"]


def test_env_list_splits_on_commas_and_strips_items():
    environ = {"ALLOWED_HOSTS": "reader.example.org, localhost"}
    assert env_list("ALLOWED_HOSTS", [], environ=environ) == ["reader.example.org", "localhost"]


@pytest.mark.parametrize("value", ["a,,b", "a,", ",a", "a, ,b"])
def test_env_list_empty_item_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": value})
    assert str(excinfo.value).startswith(f"ALLOWED_HOSTS={value!r} has an empty item")


# --- env_url --------------------------------------------------------------------------


def test_env_url_unset_gives_default():
    default = "https://export.arxiv.org/api/query"
    assert env_url("ARXIV_API_URL", default, environ={}) == default


def test_env_url_drops_the_trailing_slash():
    environ = {"CROSSREF_API_URL": "http://127.0.0.1:8001/crossref/"}
    url = env_url("CROSSREF_API_URL", "https://api.crossref.org", environ=environ)
    assert url == "http://127.0.0.1:8001/crossref"


@pytest.mark.parametrize(
    "value", ["ftp://export.arxiv.org/api", "export.arxiv.org/api", "https://", "not a url"]
)
def test_env_url_malformed_is_refused_naming_the_variable(value):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env_url("ARXIV_API_URL", "https://export.arxiv.org", environ={"ARXIV_API_URL": value})
    assert str(excinfo.value) == f"ARXIV_API_URL={value!r} is not an http(s) URL with a host"


# --- the settings module, imported in a fresh interpreter -----------------------------


def run_python(args, *, tmp_path, **variables):
    """Run the venv's Python in the repository root with only the given variables (plus
    PATH and a throwaway SQLite database, so nothing is written under var/)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(variables)
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def import_settings(tmp_path, expression="", **variables):
    code = "import mlsys_reader.settings as s"
    if expression:
        code += f"; print(repr({expression}))"
    return run_python(["-c", code], tmp_path=tmp_path, **variables)


def configuration_error(result):
    """The ImproperlyConfigured message that stopped the import."""
    assert result.returncode != 0, result.stdout
    last_line = result.stderr.strip().splitlines()[-1]
    prefix = "django.core.exceptions.ImproperlyConfigured: "
    assert last_line.startswith(prefix), result.stderr
    return last_line.removeprefix(prefix)


def test_settings_import_with_debug_off_and_a_secret_key(tmp_path):
    result = import_settings(tmp_path, "(s.DEBUG, s.SECURE_SSL_REDIRECT)", SECRET_KEY="k" * 60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "(False, True)\n", "")


def test_without_secret_key_and_debug_off_nothing_can_be_signed(tmp_path):
    code = (
        "import django; django.setup()\nfrom django.core import signing\nsigning.dumps('session')"
    )
    result = run_python(
        ["-c", code], tmp_path=tmp_path, DJANGO_SETTINGS_MODULE="mlsys_reader.settings"
    )
    assert configuration_error(result) == "The SECRET_KEY setting must not be empty."


def test_without_secret_key_and_debug_off_the_server_refuses_to_start(tmp_path):
    for module in ("mlsys_reader.wsgi", "mlsys_reader.asgi"):
        message = configuration_error(run_python(["-c", f"import {module}"], tmp_path=tmp_path))
        assert message == (
            "SECRET_KEY is required when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)"
        )
    started = run_python(["-c", "import mlsys_reader.wsgi"], tmp_path=tmp_path, SECRET_KEY="k" * 60)
    # (On a fresh clone WhiteNoise warns that static files are not collected yet.)
    assert started.returncode == 0, started.stderr
    assert "SECRET_KEY" not in started.stderr


def test_settings_with_debug_on_use_a_dev_key(tmp_path):
    result = import_settings(tmp_path, "s.SECRET_KEY.startswith('django-insecure-')", DEBUG="true")
    assert (result.returncode, result.stdout) == (0, "True\n"), result.stderr


def test_settings_read_secret_key_file(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("key-from-a-mounted-secret-file\n", encoding="utf-8")
    result = import_settings(tmp_path, "s.SECRET_KEY", SECRET_KEY_FILE=str(secret))
    assert (result.returncode, result.stdout) == (0, "'key-from-a-mounted-secret-file'\n")


def test_settings_parse_a_postgres_database_url(tmp_path):
    expression = "{k: s.DATABASES['default'][k] for k in ('ENGINE', 'HOST', 'PORT', 'NAME')}"
    result = import_settings(
        tmp_path,
        expression,
        SECRET_KEY="k" * 60,
        DATABASE_URL="postgres://reader@db.internal:5433/mlsys_reader",
    )
    expected = {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "db.internal",
        "PORT": 5433,
        "NAME": "mlsys_reader",
    }
    assert (result.returncode, result.stdout) == (0, f"{expected!r}\n"), result.stderr


@pytest.mark.parametrize(
    ("name", "value", "expected_start"),
    [
        ("DATABASE_URL", "nonsense://x", "DATABASE_URL (scheme 'nonsense') is not a database URL"),
        ("DATABASE_URL", "postgres://u@h:notaport/db", "DATABASE_URL (scheme 'postgres') is not"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("ALLOWED_HOSTS", "localhost,,127.0.0.1", "ALLOWED_HOSTS='localhost,,127.0.0.1' has an"),
        ("ARXIV_API_URL", "ftp://export.arxiv.org", "ARXIV_API_URL='ftp://export.arxiv.org' is"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE='Mars/Olympus_Mons' is not an IANA"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL='loud' must be DEBUG, INFO"),
        (
            "CSRF_TRUSTED_ORIGINS",
            "reader.example.edu",
            "CSRF_TRUSTED_ORIGINS item 'reader.example.edu'",
        ),
        ("HTTP_TIMEOUT", "soon", "HTTP_TIMEOUT='soon' is not a whole number"),
        ("TASKS_BACKEND", "celery", "TASKS_BACKEND='celery' must be one of"),
    ],
)
def test_settings_malformed_value_fails_naming_the_variable(tmp_path, name, value, expected_start):
    result = import_settings(tmp_path, SECRET_KEY="k" * 60, **{name: value})
    message = configuration_error(result)
    assert message.startswith(expected_start), message


def test_check_deploy_passes_with_debug_off_and_defaults(tmp_path):
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path=tmp_path,
        SECRET_KEY=secrets.token_urlsafe(64),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_bad_database_url_error_does_not_echo_the_password(tmp_path):
    result = import_settings(
        tmp_path, SECRET_KEY="k" * 60, DATABASE_URL="postgres://app:hunter2@db:notaport/x"
    )
    message = configuration_error(result)
    assert "hunter2" not in message + result.stderr
    assert message.startswith("DATABASE_URL (scheme 'postgres') is not a database URL")
