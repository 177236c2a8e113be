"""`flask cplan check-config`: what production would refuse, printed, and a non-zero exit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cplan import create_app
from cplan.cli import cplan_cli
from cplan.config import ConfigError
from tests.conftest import TEST_SECRET

PRODUCTION_LIKE = {
    "CPLAN_ENV_NAME": "production",
    "CPLAN_SECRET_KEY": TEST_SECRET,
    "CPLAN_AUDIT_CHECKPOINT_KEY": TEST_SECRET[::-1],
    "CPLAN_SMS_BACKEND": "http",
    "CPLAN_SMS_HTTP_URL": "https://sms.example.in/send",
    "CPLAN_SMS_BROADCAST_BACKEND": "msdg",
    "CPLAN_SMS_BROADCAST_URL": "https://msdgweb.mgov.gov.in/esms/sendsmsrequestDLT",
    "CPLAN_SMS_DLR_SECRET": TEST_SECRET[5:],
    "CPLAN_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    "CPLAN_TRUSTED_PROXIES": "1",
    "CPLAN_DATABASE_URL": "postgresql://cplan@db-primary/cplan",
}


@pytest.fixture
def environment(tmp_path, monkeypatch):
    """An empty instance folder, no CPLAN_* variables but the production-like ones."""
    for name in list(os.environ):
        if name.startswith("CPLAN_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    for name, value in PRODUCTION_LIKE.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def check_config():
    return CliRunner().invoke(cplan_cli, ["check-config"])


def test_a_production_configuration_passes(environment):
    result = check_config()
    assert result.exit_code == 0, result.output
    assert "fit for production" in result.output and "REFUSED" not in result.output
    assert "db-primary/cplan" in result.output


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("CPLAN_SECRET_KEY", "0123456789abcdef0123456789abcdef", "CPLAN_SECRET_KEY"),
        ("CPLAN_SMS_BACKEND", "console", "CPLAN_SMS_BACKEND=http"),
        ("CPLAN_TRUSTED_PROXIES", "0", "CPLAN_TRUSTED_PROXIES"),
        ("CPLAN_DEBUG", "true", "debug"),
        ("CPLAN_RATELIMIT_STORAGE_URI", "memory://", "CPLAN_RATELIMIT_STORAGE_URI"),
        ("CPLAN_DATABASE_URL", "sqlite:////srv/cplan.sqlite", "not PostgreSQL"),
        ("CPLAN_SMS_HTTP_URL", "http://sms.example.in/send", "https://"),
        ("CPLAN_ENV_NAME", "development", "CPLAN_ENV_NAME is 'development'"),
        ("CPLAN_SMS_BROADCAST_BACKEND", "console", "CPLAN_SMS_BROADCAST_BACKEND=exotel / http"),
        ("CPLAN_SMS_BROADCAST_BACKEND", "memory", "not 'memory'"),
        ("CPLAN_SMS_BROADCAST_URL", "http://msdg.example.in/send", "CPLAN_SMS_BROADCAST_URL"),
        ("CPLAN_SMS_DLR_SECRET", "", "CPLAN_SMS_DLR_SECRET is unset"),
        ("CPLAN_SMS_BROADCAST_BACKEND", "exotel", "CPLAN_SMS_CALLBACK_BASE_URL"),
    ],
)
def test_each_unsafe_setting_is_named_and_the_exit_is_non_zero(environment, name, value, named):
    environment.setenv(name, value)
    result = check_config()
    assert result.exit_code == 1
    refused = [line for line in result.output.splitlines() if line.startswith("REFUSED")]
    assert any(named in line for line in refused), result.output
    assert "not fit for production" in result.output


def test_development_defaults_list_every_problem_at_once(environment):
    for name in PRODUCTION_LIKE:
        environment.delenv(name)
    result = check_config()
    assert result.exit_code == 1
    for named in (
        "CPLAN_SMS_BACKEND",
        "CPLAN_SMS_BROADCAST_BACKEND",
        "RATELIMIT",
        "TRUSTED_PROXIES",
        "Secure flag",
        "ENV_NAME",
    ):
        assert named in result.output


def test_the_secret_itself_is_never_printed(environment):
    environment.setenv("CPLAN_SECRET_KEY", "short-but-secret")
    assert "short-but-secret" not in check_config().output


def test_production_refuses_to_start_in_debug_mode(environment):
    environment.setenv("CPLAN_DEBUG", "true")
    with pytest.raises(ConfigError, match="debug"):
        create_app()


def test_the_command_reports_even_a_configuration_the_app_refuses_to_start_with(tmp_path):
    """Through the real `flask` command: the app is never built, so no traceback."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPLAN_")}
    env.update(PRODUCTION_LIKE, CPLAN_SECRET_KEY="changeme", CPLAN_SMS_BACKEND="console")
    result = subprocess.run(
        [Path(sys.executable).parent / "flask", "--app", "wsgi", "cplan", "check-config"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "REFUSED: production needs CPLAN_SECRET_KEY" in result.stdout
    assert "Traceback" not in result.stderr and "changeme" not in result.stdout
