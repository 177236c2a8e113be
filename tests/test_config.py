"""Configuration layers: defaults < instance/config.py < CPLAN_* environment < create_app()."""

import base64
import secrets

import pytest

from cplan import create_app
from cplan.config import ConfigError, is_strong_secret
from tests.conftest import TEST_SECRET


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """Point the app at an empty instance folder and clear CPLAN_* variables."""
    for name in list(__import__("os").environ):
        if name.startswith("CPLAN_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path))
    return tmp_path


def test_defaults_use_a_sqlite_file_in_the_instance_folder(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'cplan.sqlite'}"
    assert app.config["COVERAGE_TARGET"] == 10


def test_instance_config_overrides_defaults(instance):
    (instance / "config.py").write_text("COVERAGE_TARGET = 12\nSMS_BACKEND = 'memory'\n")
    app = create_app()
    assert app.config["COVERAGE_TARGET"] == 12
    assert app.config["SMS_BACKEND"] == "memory"


def test_environment_overrides_instance_config(instance, monkeypatch):
    (instance / "config.py").write_text("COVERAGE_TARGET = 12\n")
    monkeypatch.setenv("CPLAN_COVERAGE_TARGET", "8")
    monkeypatch.setenv("CPLAN_DATABASE_URL", "postgresql://root@db.example/cplan")
    app = create_app()
    assert app.config["COVERAGE_TARGET"] == 8
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://root@db.example/cplan"


def test_development_generates_a_secret_once_and_keeps_it(instance):
    first = create_app().config["SECRET_KEY"]
    second = create_app().config["SECRET_KEY"]
    assert is_strong_secret(first)
    assert first == second
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "dev",
        "short-secret",
        "a" * 40,
        # Issue 14: long enough and 16 distinct characters, but two runs of one sequence.
        "0123456789abcdef0123456789abcdef",
        "abcdefghijklmnopqrstuvwxyzABCDEF",
        "ab" * 20,
        "Password123Password123Password123",
        secrets.token_hex(16),
    ],
)
def test_production_refuses_to_start_without_a_strong_secret(instance, monkeypatch, secret):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    if secret is not None:
        monkeypatch.setenv("CPLAN_SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_with_a_strong_secret_sets_secure_cookies(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    monkeypatch.setenv("CPLAN_SMS_BROADCAST_BACKEND", "exotel")
    monkeypatch.setenv("CPLAN_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("CPLAN_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CPLAN_AUDIT_CHECKPOINT_KEY", TEST_SECRET[::-1])
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert app.config["DEVICE_COOKIE_NAME"].startswith("__Host-")


def test_production_refuses_rate_limits_counted_in_each_workers_memory(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    monkeypatch.setenv("CPLAN_SECRET_KEY", TEST_SECRET)
    with pytest.raises(ConfigError, match="CPLAN_RATELIMIT_STORAGE_URI"):
        create_app()
    monkeypatch.setenv("CPLAN_RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(ConfigError, match="CPLAN_RATELIMIT_STORAGE_URI"):
        create_app()


def test_production_refuses_the_console_sms_backend(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SECRET_KEY", TEST_SECRET)
    with pytest.raises(ConfigError, match="SMS"):
        create_app()


@pytest.mark.parametrize("backend", ["console", "memory", None])
def test_production_refuses_to_broadcast_through_the_console_or_memory(
    instance, monkeypatch, backend
):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    monkeypatch.setenv("CPLAN_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("CPLAN_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CPLAN_AUDIT_CHECKPOINT_KEY", TEST_SECRET[::-1])
    if backend:
        monkeypatch.setenv("CPLAN_SMS_BROADCAST_BACKEND", backend)
    with pytest.raises(ConfigError, match="CPLAN_SMS_BROADCAST_BACKEND") as refused:
        create_app()
    assert "SECRET_KEY" not in str(refused.value)  # the only refusal
    monkeypatch.setenv("CPLAN_SMS_BROADCAST_BACKEND", "msdg")
    assert create_app().config["SMS_BROADCAST_BACKEND"] == "msdg"


def test_sqlite_connections_have_wal_foreign_keys_and_busy_timeout(instance):
    app = create_app()
    from cplan.extensions import db

    with app.app_context():
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 20000
        db.engine.dispose()


def test_the_sqlite_busy_timeout_comes_from_the_configuration(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_SQLITE_BUSY_TIMEOUT_MS", "7500")
    app = create_app()
    from cplan.extensions import db

    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7500
        db.engine.dispose()


def test_postgresql_gets_a_bounded_pool_and_a_statement_timeout_sqlite_none(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_DATABASE_URL", "postgresql://root@db.example/cplan")
    monkeypatch.setenv("CPLAN_DB_STATEMENT_TIMEOUT_MS", "5000")
    options = create_app().config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert (options["pool_size"], options["max_overflow"], options["pool_pre_ping"]) == (2, 3, True)
    assert options["connect_args"]["options"] == "-c statement_timeout=5000"
    assert options["connect_args"]["application_name"] == "cplan"
    monkeypatch.delenv("CPLAN_DATABASE_URL")
    # SQLite: no pool, its busy timeout; on either, a failed statement's text never holds its
    # parameters.
    assert create_app().config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "hide_parameters": True,
        "connect_args": {"timeout": 20.0},
    }
    assert options["hide_parameters"] is True


def test_explicit_engine_options_win_over_the_defaults(instance):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql://root@db.example/cplan",
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_size": 9,
                "connect_args": {"options": "-c work_mem=64MB"},
            },
        }
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 9
    assert options["connect_args"]["options"] == "-c work_mem=64MB -c statement_timeout=20000"


def test_a_reports_replica_gets_its_own_read_only_engine(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_DATABASE_URL", "postgresql://root@db-primary/cplan")
    monkeypatch.setenv("CPLAN_REPORTS_DATABASE_URL", "postgresql://root@db-replica/cplan")
    reports = create_app().config["SQLALCHEMY_BINDS"]["reports"]
    assert reports["url"] == "postgresql+psycopg://root@db-replica/cplan"
    assert reports["connect_args"]["options"] == (
        "-c statement_timeout=20000 -c default_transaction_read_only=on"
    )
    assert reports["connect_args"]["application_name"] == "cplan-reports"
    assert reports["pool_size"] == 2
    monkeypatch.delenv("CPLAN_REPORTS_DATABASE_URL")
    assert "reports" not in (create_app().config.get("SQLALCHEMY_BINDS") or {})


def test_behind_a_trusted_proxy_the_clients_address_is_recorded_not_the_proxys(instance):
    """Sessions and audit events take ``request.remote_addr``: behind nginx (one trusted proxy)
    it is the client's address from X-Forwarded-For; with none trusted the header is ignored."""
    import flask

    for proxies, expected in ((1, "203.0.113.7"), (0, "10.0.0.2")):
        app = create_app({"TRUSTED_PROXIES": proxies, "TESTING": True, "SECRET_KEY": TEST_SECRET})
        seen = {}

        def where(seen=seen):
            seen["ip"] = flask.request.remote_addr
            return "ok"

        where.is_public = True
        app.add_url_rule("/where", "where", where)
        app.test_client().get(
            "/where",
            headers={"X-Forwarded-For": "203.0.113.7"},
            environ_base={"REMOTE_ADDR": "10.0.0.2"},
        )
        assert seen["ip"] == expected


@pytest.mark.parametrize(
    "secret",
    [
        secrets.token_hex(32),
        secrets.token_urlsafe(32),
        base64.b64encode(secrets.token_bytes(32)).decode(),
        secrets.token_urlsafe(48),
    ],
)
def test_production_accepts_32_or_more_random_bytes_in_any_usual_encoding(
    instance, monkeypatch, secret
):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    monkeypatch.setenv("CPLAN_SMS_BROADCAST_BACKEND", "msdg")
    monkeypatch.setenv("CPLAN_SECRET_KEY", secret)
    monkeypatch.setenv("CPLAN_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("CPLAN_AUDIT_CHECKPOINT_KEY", TEST_SECRET[::-1])
    assert create_app().config["SECRET_KEY"] == secret


def test_the_secret_estimate_counts_only_what_a_guesser_could_not_predict():
    from cplan.config import secret_bits

    assert secret_bits("0123456789abcdef" * 2) < 16
    assert secret_bits("ab" * 20) < 8
    assert min(secret_bits(secrets.token_hex(32)) for _ in range(200)) > 150
    assert secret_bits("x" * 100_000) == 0  # a huge value is judged quickly, on its start


def test_production_refuses_to_start_without_a_key_for_the_audit_checkpoints(instance, monkeypatch):
    monkeypatch.setenv("CPLAN_ENV_NAME", "production")
    monkeypatch.setenv("CPLAN_SMS_BACKEND", "http")
    monkeypatch.setenv("CPLAN_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("CPLAN_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match="CPLAN_AUDIT_CHECKPOINT_KEY"):
        create_app()
    assert not (instance / "audit_checkpoint_key").exists()


def test_development_generates_the_checkpoint_key_once_into_the_instance_folder(instance):
    key = create_app().config["AUDIT_CHECKPOINT_KEY"]
    assert len(key) >= 32 and (instance / "audit_checkpoint_key").read_text() == key
    assert create_app().config["AUDIT_CHECKPOINT_KEY"] == key
