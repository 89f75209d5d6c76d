"""manage.py as an operator meets it: mistakes give one readable line, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def manage(*args, tmp_path, **variables):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_malformed_setting_is_one_line_naming_the_variable(tmp_path):
    result = manage("check", tmp_path=tmp_path, DEBUG="maybe")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "configuration error: DEBUG='maybe' is not a boolean; "
        "use one of true/false, yes/no, on/off, 1/0"
    ]


def test_runserver_without_secret_key_is_one_line_naming_it(tmp_path):
    result = manage("runserver", "--noreload", tmp_path=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("configuration error: SECRET_KEY is required when DEBUG is off")
    assert "Traceback" not in result.stdout + result.stderr


def test_commands_that_sign_nothing_run_without_secret_key(tmp_path):
    # What an operator or a build step runs before a key exists: the migration check,
    # migrate, and the system checks (where --deploy names the missing key).
    result = manage("makemigrations", "--check", "--dry-run", tmp_path=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected"), result.stderr
    result = manage("migrate", "--noinput", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    result = manage("check", "--deploy", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "security.W009" in result.stderr


def assert_one_line_usage_error(result, command, message):
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.splitlines()
    # argparse prints the usage (which may wrap) and then exactly one error line.
    assert lines[0].startswith(f"usage: manage.py {command} "), result.stderr
    assert [line for line in lines if "error:" in line] == [
        f"manage.py {command}: error: {message}"
    ]
    assert lines[-1] == f"manage.py {command}: error: {message}"


def test_unknown_option_to_load_demo_is_an_argparse_error(tmp_path):
    result = manage("load_demo", "--bogus", tmp_path=tmp_path, DEBUG="true")
    assert_one_line_usage_error(result, "load_demo", "unrecognized arguments: --bogus")


def test_unknown_option_to_a_django_command_is_an_argparse_error(tmp_path):
    result = manage("check", "--bogus", tmp_path=tmp_path, DEBUG="true")
    assert_one_line_usage_error(result, "check", "unrecognized arguments: --bogus")
