"""Configuration defaults and the layering rules.

Layers, later wins: the defaults below < ``instance/config.py`` (git-ignored) <
``CPLAN_*`` environment variables < the mapping given to ``create_app`` (tests).
No secret lives here: development generates one into the instance folder on first
run, production refuses to start without a strong one.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

MIN_SECRET_KEY_LENGTH = 32
# 32 random bytes carry 256 bits; their usual encodings (hex, base64) estimate at 200 or more.
MIN_SECRET_KEY_BITS = 128
WEAK_SECRET_KEYS = {"dev", "secret", "changeme", "change-me", "development", "test"}


class DefaultConfig:
    """Settings every environment starts from."""

    ENV_NAME = "development"  # development | production | testing
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # None: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL only (see postgresql_engine_options): each gunicorn worker process keeps its
    # own pool, so the server sees app servers x workers x (pool size + overflow) connections
    # at most; keep that under PostgreSQL's max_connections (100 by default) or use PgBouncer.
    DB_POOL_SIZE = 2
    DB_MAX_OVERFLOW = 3
    DB_POOL_TIMEOUT = 10  # seconds to wait for a free connection before failing the request
    # Seconds to wait for the database server to answer a new connection: a host that is down
    # gets the "try again in a minute" page quickly rather than a worker stuck until killed.
    DB_CONNECT_TIMEOUT = 5
    DB_POOL_RECYCLE = 1800  # seconds; replaces connections before proxies and firewalls drop them
    # Below gunicorn's worker timeout (30 s), so a runaway query fails with an error page
    # instead of the worker being killed mid-request.
    DB_STATEMENT_TIMEOUT_MS = 20000
    DB_APPLICATION_NAME = "cplan"  # shown in pg_stat_activity
    # SQLite only: how long a writer waits for the write lock. Writers were seen waiting up to
    # 7.2 s (bench/sqlite_writers.py, README "Faults"): 20 s gives margin and stays below
    # gunicorn's 30 s worker timeout, so a writer that waits longer gets the 503 page.
    SQLITE_BUSY_TIMEOUT_MS = 20000
    # A read replica for the report pages (coverage), e.g. postgresql://cplan@db-replica/cplan.
    # Unset: reports read from the primary like every other page.
    REPORTS_DATABASE_URL = None

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Kolkata"
    LANGUAGES = ("en", "hi")

    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto headers are
    # then trusted, so sessions and the audit trail record the client's address, not the
    # proxy's. 0 (development, tests): no header is trusted, a client could forge it.
    TRUSTED_PROXIES = 0
    # The long-lived cookie that marks a browser which completed a sign-in on a post: a lock
    # that strangers' wrong codes put on the post's number spares it (cplan.services.lockouts).
    # Production names it "__Host-cplan-device" (HTTPS only, this host only).
    DEVICE_COOKIE_NAME = "cplan_device"
    # Rate limits (cplan/web/ratelimits.py, the table of limits is there). The store every server
    # and worker counts in: redis://host:6379/0 in production, which refuses memory:// (each
    # worker would count alone); memory:// for development and tests.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"  # exact: never more than N in any span of the window
    RATELIMIT_KEY_PREFIX = "cplan"
    # No X-RateLimit-* headers: each would cost the store a round trip (cplan.web.errors sets
    # Retry-After on a 429 itself).
    RATELIMIT_HEADERS_ENABLED = False
    # The store unreachable: count per worker in memory meanwhile, log it, never fail a page.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATE_LIMITS: dict = {}  # endpoint -> limit string, overriding single entries of the table
    # Static files are linked with their content's fingerprint (templating.static_url): a
    # phone keeps the stylesheet for a year and fetches it again only when it changes.
    SEND_FILE_MAX_AGE_DEFAULT = timedelta(days=365)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Roster coverage: active contacts a place should have.
    COVERAGE_TARGET = 10
    # The state map's figures (each district's centroid and places at the target) read all
    # 117,000 places: each worker keeps them this many seconds (0: read them every time).
    STATE_MAP_CACHE_SECONDS = 60
    # How long a revealed number stays visible to a post above the station.
    REVEAL_MINUTES = 15
    # Enrolments waiting longer than this are highlighted in the approval queue.
    ENROLMENT_SLA_DAYS = 7
    # A contact not verified for this many days is out of date (marked on rosters; each
    # station lists its own, sensitive villages first).
    VERIFICATION_POLICY_DAYS = 180
    # Incidents: the first verification call is due within, and a verdict within.
    INCIDENT_FIRST_CALL_MINUTES = 30
    INCIDENT_VERDICT_HOURS = 6
    # Sensitive actions (exports with full numbers, CUG and post changes, confidential marking,
    # erasure) need the officer's password typed within this many minutes (cplan.web.access).
    FRESH_SIGN_IN_MINUTES = 10
    # Exports with full numbers each officer may make per day (IST); 0 allows none.
    FULL_NUMBER_EXPORTS_PER_DAY = 3
    # How long a phone's device token for /api/v1 lasts (cplan.services.device_tokens).
    DEVICE_TOKEN_DAYS = 30
    # Another folder of reference data (CPLAN_DATA_DIR); unset: the files shipped in cplan/data/.
    DATA_DIR = None

    # SMS (cplan.services.sms): console | memory | http. The gateway settings and the DLT ids
    # come from instance/config.py or CPLAN_* variables; credentials never live here.
    SMS_BACKEND = "console"
    SMS_HTTP_URL = None
    SMS_HTTP_USERNAME = None
    SMS_HTTP_PASSWORD = None
    SMS_HTTP_TIMEOUT = 10  # seconds
    SMS_DLT_ENTITY_ID = None
    SMS_SENDER_ID = None  # the registered six-character header
    # One DLT template id per registered text and language.
    SMS_TEMPLATE_OTP_ID = None
    SMS_TEMPLATE_OTP_HI_ID = None
    SMS_TEMPLATE_CUG_CHANGED_ID = None
    SMS_TEMPLATE_CUG_CHANGED_HI_ID = None
    SMS_TEMPLATE_OFFICER_SETUP_ID = None
    SMS_TEMPLATE_OFFICER_SETUP_HI_ID = None
    SMS_TEMPLATE_SIGN_IN_LOCKED_ID = None
    SMS_TEMPLATE_SIGN_IN_LOCKED_HI_ID = None
    # Broadcasts (cplan.services.sms_gateways, sent by `flask cplan sms-worker`): console |
    # memory | http (a JSON gateway) | msdg (the Government's mobile seva gateway) | exotel
    # (Exotel's SMS API: SMS_BROADCAST_URL is its API host, e.g. https://api.in.exotel.com,
    # SMS_BROADCAST_API_KEY its API key, with the account SID and API token below; delivery
    # reports come back to SMS_CALLBACK_BASE_URL, our own public https:// address).
    SMS_BROADCAST_BACKEND = "console"
    SMS_BROADCAST_URL = None
    SMS_BROADCAST_API_KEY = None
    SMS_BROADCAST_TIMEOUT = 10  # seconds
    SMS_MSDG_USERNAME = None
    SMS_MSDG_PASSWORD = None
    SMS_MSDG_SECURE_KEY = None
    SMS_EXOTEL_ACCOUNT_SID = None
    SMS_EXOTEL_API_TOKEN = None
    SMS_CALLBACK_BASE_URL = None
    SMS_RATE_PER_SECOND = 20  # per worker: the gateway's allowance divided by the workers
    SMS_WORKER_BATCH_SIZE = 50
    SMS_WORKER_CONCURRENCY = 8  # gateway requests in flight at once per worker
    SMS_WORKER_MAX_ATTEMPTS = 5
    SMS_WORKER_BACKOFF_SECONDS = 30  # doubled after each temporary failure
    SMS_WORKER_MAX_BACKOFF_SECONDS = 3600
    SMS_WORKER_LEASE_SECONDS = 120  # a claim older than this is taken over (its worker died)
    SMS_MESSAGE_TTL_HOURS = 24  # a message not sent by then expires
    # The shared secret gateways sign delivery reports with (HMAC-SHA256, X-Signature header);
    # unset: /broadcasts/delivery-reports/... answers 404.
    SMS_DLR_SECRET = None
    # The audit trail's sealer (README "The audit trail at scale"): a process tries to seal
    # after committing events at most once in this many seconds (None: never, leave it to
    # `flask cplan audit-sealer`); the sealer process seals every AUDIT_SEALER_INTERVAL seconds;
    # `audit verify` fails on an event still unsealed AUDIT_SEAL_DEADLINE seconds after it was
    # recorded.
    AUDIT_SEAL_AFTER_COMMIT = 1.0
    AUDIT_SEALER_INTERVAL = 1.0
    AUDIT_SEAL_DEADLINE = 120.0
    # The HMAC-SHA256 key that signs the sealer's checkpoints (CPLAN_AUDIT_CHECKPOINT_KEY; never
    # in the database: production refuses to start without one, development generates one into
    # the instance folder), and the append-only JSON-lines file they go to (default:
    # instance/audit-checkpoints-<digest of the database URL>.jsonl, one per database;
    # production: a path the database server cannot write).
    AUDIT_CHECKPOINT_KEY = None
    AUDIT_CHECKPOINT_FILE = None
    # The name authenticator apps show next to the officer's PNO.
    TOTP_ISSUER = "C-Plan UP Police"
    LOG_LEVEL = "INFO"
    # A failure repeated within this many seconds is counted, not logged again (cplan.logging).
    LOG_REPEAT_SECONDS = 60
    # /readyz (cplan.blueprints.health): seconds the database may take to connect and answer,
    # and minutes an SMS notice may wait in the outbox before the server reports "stuck" (0: off).
    HEALTH_TIMEOUT = 2
    HEALTH_OUTBOX_STUCK_MINUTES = 15
    # /metrics answers only these networks (CIDR; CPLAN_METRICS_ALLOWED_NETWORKS='["10.0.5.0/24"]'),
    # as the app sees the client's address (behind nginx: with CPLAN_TRUSTED_PROXIES set).
    METRICS_ALLOWED_NETWORKS: list = []  # none: closed until configured
    # Days each data class is kept before `flask cplan retention --apply` removes it, overriding
    # single entries of cplan.services.retention.DATA_CLASSES ({"sign_in_sessions": 400}).
    RETENTION_DAYS: dict = {}


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete: the app refuses to start."""


def load_config(app, overrides=None, refuse=True):
    """Apply the configuration layers to ``app`` and check the result (``refuse=False``: keep
    an unsafe production configuration, for ``flask cplan check-config`` to report)."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CPLAN")
    if overrides:
        app.config.update(overrides)

    env_name = app.config["ENV_NAME"]
    if env_name not in {"development", "production", "testing"}:
        raise ConfigError(
            f"CPLAN_ENV_NAME must be development, production or testing, not {env_name!r}"
        )
    app.testing = app.config.get("TESTING", False) or env_name == "testing"

    database_url = app.config.get("DATABASE_URL") or app.config["SQLALCHEMY_DATABASE_URI"]
    if not database_url:
        database_url = "sqlite:///" + str(Path(app.instance_path) / "cplan.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(database_url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = postgresql_engine_options(app.config)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = sqlite_engine_options(app.config)
    # A statement's parameters can hold a mobile number: never in an error's text, so a logged
    # traceback (cplan.logging) shows the statement without them.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "hide_parameters": True,
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }

    reports_url = app.config.get("REPORTS_DATABASE_URL")
    if reports_url:
        app.config["SQLALCHEMY_BINDS"] = {
            **(app.config.get("SQLALCHEMY_BINDS") or {}),
            REPORTS_BIND: reports_engine_options(app.config, reports_url),
        }

    _ensure_secret_key(app)
    if env_name == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["SESSION_COOKIE_NAME"] = "__Host-cplan"
        app.config["DEVICE_COOKIE_NAME"] = "__Host-cplan-device"
        refusals = production_refusals(app.config)
        if refusals and refuse:
            raise ConfigError("\n".join(refusals))
    _ensure_checkpoint_key(app)


# The broadcast backends that reach a citizen's phone (cplan.services.sms_gateways).
BROADCAST_GATEWAYS = frozenset({"msdg", "exotel", "http"})


def production_refusals(config) -> list[str]:
    """What production refuses to start with, one sentence each (``flask cplan check-config``
    prints them, with ``deployment_problems``)."""
    refusals = []
    if not is_strong_secret(config.get("SECRET_KEY")):
        refusals.append(
            "production needs CPLAN_SECRET_KEY: a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters and about {MIN_SECRET_KEY_BITS} bits, "
            'e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    if not is_strong_secret(config.get("AUDIT_CHECKPOINT_KEY")):
        refusals.append(
            "production needs CPLAN_AUDIT_CHECKPOINT_KEY: a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, kept away from the database and its "
            "backups (it signs the audit trail's checkpoints)"
        )
    if config.get("SMS_BACKEND") != "http":
        refusals.append(
            "production must send SMS through the http gateway (CPLAN_SMS_BACKEND=http), "
            f"not {config.get('SMS_BACKEND')!r}"
        )
    broadcast_backend = config.get("SMS_BROADCAST_BACKEND")
    if broadcast_backend not in BROADCAST_GATEWAYS:
        refusals.append(
            "production must send broadcasts through a gateway (CPLAN_SMS_BROADCAST_BACKEND="
            f"{' / '.join(sorted(BROADCAST_GATEWAYS))}), not {broadcast_backend!r}: the worker "
            "would mark every citizen's message sent without sending it"
        )
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if config.get("RATELIMIT_ENABLED", True) and storage.startswith("memory://"):
        refusals.append(
            "production needs CPLAN_RATELIMIT_STORAGE_URI=redis://...: with memory:// every "
            "worker of every server would count on its own, multiplying each rate limit"
        )
    if config.get("DEBUG"):
        refusals.append(
            "production must not run in debug mode (FLASK_DEBUG / CPLAN_DEBUG): the debugger "
            "runs any code a visitor types"
        )
    return refusals


def deployment_problems(config) -> list[str]:
    """What a production deployment should not have, beyond ``production_refusals``: the app
    would start, but behind nginx, over HTTPS and on PostgreSQL (README "Deployment") it would
    misbehave. Only ``flask cplan check-config`` reports these."""
    problems = []
    if config.get("ENV_NAME") != "production":
        problems.append(
            f"CPLAN_ENV_NAME is {config.get('ENV_NAME')!r}: production sets secure cookies and "
            "refuses the settings above only with CPLAN_ENV_NAME=production"
        )
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append(
            "the session cookie lacks the Secure flag: a browser would send it over plain HTTP"
        )
    if int(config.get("TRUSTED_PROXIES") or 0) < 1:
        problems.append(
            "CPLAN_TRUSTED_PROXIES is 0: behind nginx every request would seem to come from "
            "nginx's address (one lockout and one rate limit for everybody); set it to the "
            "number of proxies in front of the app (1)"
        )
    if not str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("postgresql"):
        problems.append(
            "the database is not PostgreSQL (CPLAN_DATABASE_URL=postgresql://...): SQLite lives "
            "on one server's disk and serves one writer at a time"
        )
    if config.get("SMS_BACKEND") == "http" and not str(config.get("SMS_HTTP_URL") or "").startswith(
        "https://"
    ):
        problems.append(
            "CPLAN_SMS_HTTP_URL must be the gateway's https:// address: sign-in codes travel in it"
        )
    if config.get("SMS_BROADCAST_BACKEND") in BROADCAST_GATEWAYS:
        if not str(config.get("SMS_BROADCAST_URL") or "").startswith("https://"):
            problems.append(
                "CPLAN_SMS_BROADCAST_URL must be the broadcast gateway's https:// address: "
                "citizens' numbers and its credentials travel in it"
            )
        if not config.get("SMS_DLR_SECRET"):
            problems.append(
                "CPLAN_SMS_DLR_SECRET is unset: the gateway's delivery reports and STOP replies "
                "would be refused (404), so no broadcast would show what was delivered"
            )
        if config.get("SMS_BROADCAST_BACKEND") == "exotel" and not str(
            config.get("SMS_CALLBACK_BASE_URL") or ""
        ).startswith("https://"):
            problems.append(
                "CPLAN_SMS_CALLBACK_BASE_URL must be the portal's own https:// address: Exotel "
                "sends each message's delivery report there"
            )
    return problems


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def postgresql_engine_options(config) -> dict:
    """The pool and per-connection settings for PostgreSQL, from the ``DB_*`` settings.

    Options given explicitly in ``SQLALCHEMY_ENGINE_OPTIONS`` win over the ones built here;
    the server-side settings are added to any ``options`` already in ``connect_args``.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_size", int(config["DB_POOL_SIZE"]))
    options.setdefault("max_overflow", int(config["DB_MAX_OVERFLOW"]))
    options.setdefault("pool_timeout", int(config["DB_POOL_TIMEOUT"]))
    options.setdefault("pool_recycle", int(config["DB_POOL_RECYCLE"]))
    # A connection that died while idle in the pool (failover, restart) is replaced, not
    # handed to a request that would then fail.
    options.setdefault("pool_pre_ping", True)
    connect_args = dict(options.get("connect_args") or {})
    server_options = connect_args.get("options", "")
    if "statement_timeout" not in server_options:
        server_options += f" -c statement_timeout={int(config['DB_STATEMENT_TIMEOUT_MS'])}"
    connect_args["options"] = server_options.strip()
    connect_args.setdefault("application_name", config["DB_APPLICATION_NAME"])
    connect_args.setdefault("connect_timeout", int(config.get("DB_CONNECT_TIMEOUT") or 5))
    options["connect_args"] = connect_args
    return options


def sqlite_engine_options(config) -> dict:
    """SQLite's busy timeout (``SQLITE_BUSY_TIMEOUT_MS``): how long a writer waits for the write
    lock before "database is locked" (Python's sqlite3 sets it from ``timeout``)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("timeout", int(config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000)
    options["connect_args"] = connect_args
    return options


REPORTS_BIND = "reports"


def reports_engine_options(config, url: str) -> dict:
    """The reports replica's engine: the primary's pool and timeouts, read-only sessions."""
    url = normalise_database_url(url)
    options: dict = {
        "url": url,
        "execution_options": {"cplan_reports": True},
        "hide_parameters": True,
    }
    if url.startswith("postgresql"):
        options.update(postgresql_engine_options({**config, "SQLALCHEMY_ENGINE_OPTIONS": {}}))
        connect_args = options["connect_args"]
        # A hot standby refuses writes anyway; a replica that is not one must refuse them too.
        connect_args["options"] += " -c default_transaction_read_only=on"
        connect_args["application_name"] = config["DB_APPLICATION_NAME"] + "-reports"
    return options


def _ensure_secret_key(app):
    key = app.config.get("SECRET_KEY")
    if app.config["ENV_NAME"] == "production":
        return  # never generated: production_refusals judges the one configured
    if key:
        return
    # Development and tests: generate once and keep it in the instance folder,
    # so sessions survive restarts without a secret ever entering git.
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        return
    os.makedirs(app.instance_path, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    os.chmod(key_file, 0o600)
    app.config["SECRET_KEY"] = key


def _ensure_checkpoint_key(app):
    """The audit checkpoints' signing key: required in production, generated into the instance
    folder elsewhere (like the secret key)."""
    key = app.config.get("AUDIT_CHECKPOINT_KEY")
    if app.config["ENV_NAME"] == "production":
        return  # never generated: production_refusals requires one from the environment
    if key:
        return
    key_file = Path(app.instance_path) / "audit_checkpoint_key"
    if key_file.exists():
        app.config["AUDIT_CHECKPOINT_KEY"] = key_file.read_text().strip()
        return
    os.makedirs(app.instance_path, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    os.chmod(key_file, 0o600)
    app.config["AUDIT_CHECKPOINT_KEY"] = key


def is_strong_secret(key) -> bool:
    """A secret key is strong when long enough, not a well-known placeholder, and of enough
    estimated entropy (``secret_bits``): "0123456789abcdef" twice has 32 characters and 16
    distinct ones, but is one step away from guessed."""
    return (
        isinstance(key, str)
        and len(key) >= MIN_SECRET_KEY_LENGTH
        and key.lower() not in WEAK_SECRET_KEYS
        and len(set(key)) >= 10
        and secret_bits(key) >= MIN_SECRET_KEY_BITS
    )


_SECRET_ALPHABETS = (
    (frozenset("0123456789"), 10),
    (frozenset("0123456789abcdef"), 16),
    (frozenset("0123456789ABCDEF"), 16),
    (frozenset("abcdefghijklmnopqrstuvwxyz"), 26),
    (frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), 26),
    (frozenset("abcdefghijklmnopqrstuvwxyz0123456789"), 36),
    (frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 36),
    (frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), 62),
    (frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"), 64),
    (frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="), 65),
)


def secret_bits(key: str) -> float:
    """A conservative estimate of the entropy of ``key`` in bits.

    Each character that a guesser could not predict adds log2 of the alphabet the key is drawn
    from (the smallest of hex, base32-ish, base64... that holds every character, or 95 printable
    ASCII). Predictable characters add nothing: the next or previous character of a run
    ("0123", "abc", "zyx"), a repeat of the previous one, and any character inside a piece of
    four or more that already occurred ("...abcd...abcd"). The result is capped by the
    character counts' own (Shannon) entropy times the length.
    """
    import math
    from collections import Counter

    key = key[:512]  # enough to judge; keeps the work small whatever is configured
    characters = set(key)
    size = next((size for alphabet, size in _SECRET_ALPHABETS if characters <= alphabet), 95)
    size = max(size, len(characters))
    fresh = 0
    index = 0
    while index < len(key):
        repeated = 0
        for length in range(min(len(key) - index, index), 3, -1):  # a piece seen before
            if key[index : index + length] in key[:index]:
                repeated = length
                break
        if repeated:
            index += repeated
            continue
        if index == 0 or abs(ord(key[index]) - ord(key[index - 1])) > 1:
            fresh += 1
        index += 1
    counts = Counter(key)
    shannon = -sum(count / len(key) * math.log2(count / len(key)) for count in counts.values())
    return min(fresh * math.log2(size), shannon * len(key))
