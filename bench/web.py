"""HTTP benchmark: the portal's main pages under gunicorn, against the bare-Flask ceiling.

For each database (SQLite always; PostgreSQL when ``CPLAN_BENCH_DATABASE_URL`` is set) it:

1. builds the data set once with ``flask cplan generate --scale S`` into a cached database
   (SQLite: a file under the system temporary folder; PostgreSQL: a database named after the
   given one with the scale appended) and reuses it on later runs, migrated to the current
   schema (delete the file or drop the database to rebuild it after the generator changes);
2. signs in real posts server-side (a station officer, an ASP, an SP office, a state control
   room) exactly as the tests' ``login_as`` does, and builds their session cookies;
3. serves ``bench/ceiling.py`` and then the portal with the repository's ``gunicorn.conf.py``,
   and drives each page with wrk at 8 concurrent clients;
4. prints requests/s, p50/p95/p99 latency, the ratio to the ceiling, SQL statements per request,
   each page's size, each worker's resident memory, and whether each target of issues 7 and 20
   (and of issue 17 for each role's home page: p95 under 150 ms, the state's under 300 ms) is met;
5. refreshes that database's section of ``bench/RESULTS.md`` with the machine and the date.

Settings (environment): ``CPLAN_BENCH_SCALE`` (default 0.1; 1.0 is the whole state),
``CPLAN_BENCH_SECONDS`` per page (10), ``CPLAN_BENCH_CLIENTS`` (8), ``CPLAN_BENCH_SQLITE``
(an existing SQLite file to use instead of the cache), ``CPLAN_BENCH_DATABASES``
(``sqlite,postgresql`` by default when a PostgreSQL URL is set), ``CPLAN_BENCH_PROFILE=1``
(print a cProfile summary of each page, served in-process), ``WEB_CONCURRENCY`` (workers),
``CPLAN_BENCH_PAGES`` (some of roster, search, approvals, feed_district, coverage, feed_state,
api_roster, api_feed, home_station, home_asp, home_sp, home_state, map_state)
and ``CPLAN_BENCH_APP`` (another WSGI app to serve as the portal, for experiments).
"""

import cProfile
import hashlib
import http.client
import io
import json
import os
import platform
import pstats
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
CACHE = Path(tempfile.gettempdir()) / "cplan-bench"
WORKER_RSS_TARGET_MB = 150
# Issue 20: throughput as a share of the ceiling measured in the same run.
CEILING_RATIO_TARGETS = {"roster": 0.33, "search": 0.20, "approvals": 0.20}
CHECKPOINT_KEY = secrets.token_urlsafe(32)


@dataclass
class Page:
    """One page to load, as which post, and its latency target."""

    key: str
    label: str
    p95_target_ms: float
    path: str = ""
    post: str = ""
    cookie: str = ""
    note: str = ""
    statements: int | None = None
    in_process_ms: float | None = None
    kilobytes: float | None = None  # the page as the app sends it, uncompressed


def page_list() -> list[Page]:
    return [
        Page("roster", "Village roster", 30),
        Page("search", "Name search", 100),
        Page("approvals", "Approval queue", 150),
        Page("feed_district", "Incident feed, district", 150),
        Page("coverage", "District coverage", 300),
        Page("feed_state", "Incident feed, state", 150),
        # The JSON API (issue 19): the same roster for a phone, and the UP-112 pull feed
        # catching up 100 changes, each with a device token.
        Page("api_roster", "API: village roster", 50),
        Page("api_feed", "API: UP-112 feed, 100 changes", 100),
        # Each role's home page (issue 17): what needs the post now, from maintained counts.
        Page("home_station", "Home: police station", 150),
        Page("home_asp", "Home: ASP", 150),
        Page("home_sp", "Home: SP office", 150),
        Page("home_state", "Home: state control room", 300),
        Page("map_state", "Map: the state's districts", 300),
    ]


@dataclass
class Load:
    """What wrk measured for one URL."""

    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float = 0.0  # CPU time the server's workers spent per request
    database_cpu_ms: float | None = None  # PostgreSQL's processes, per request (None: SQLite)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Server:
    """A running gunicorn master started by this script."""

    process: subprocess.Popen
    port: int
    log: Path
    memory: list[tuple[float, float]] = field(default_factory=list)  # (RSS, PSS) MB per worker


# ---- settings and the cached database ---------------------------------------------------------


def settings() -> dict:
    scale = os.environ.get("CPLAN_BENCH_SCALE", "0.1")
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", scale) or float(scale) <= 0:
        sys.exit(f"CPLAN_BENCH_SCALE must be a positive number such as 0.1 or 1.0, not {scale!r}")
    scale = f"{float(scale):g}"  # 1.0 and 1 share one cached database
    pg_url = os.environ.get("CPLAN_BENCH_DATABASE_URL", "")
    kinds = os.environ.get("CPLAN_BENCH_DATABASES") or ("sqlite,postgresql" if pg_url else "sqlite")
    return {
        "scale": scale,
        "seconds": int(os.environ.get("CPLAN_BENCH_SECONDS", "10")),
        "clients": int(os.environ.get("CPLAN_BENCH_CLIENTS", "8")),
        "pg_url": pg_url,
        "kinds": [kind.strip() for kind in kinds.split(",") if kind.strip()],
        "sqlite": os.environ.get("CPLAN_BENCH_SQLITE", ""),
        "profile": os.environ.get("CPLAN_BENCH_PROFILE") == "1",
        "pages": [key for key in os.environ.get("CPLAN_BENCH_PAGES", "").split(",") if key],
        "app": os.environ.get("CPLAN_BENCH_APP", "wsgi:app"),
    }


def flask_command(database_url: str, *args: str, check: bool = True, quiet: bool = False):
    """Run ``flask --app wsgi ARGS`` on ``database_url`` (no statement timeout: builds are long)."""
    env = dict(os.environ, CPLAN_DATABASE_URL=database_url, CPLAN_DB_STATEMENT_TIMEOUT_MS="0")
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    output = subprocess.DEVNULL if quiet else None
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    if check and result.returncode:
        sys.exit(f"failed: flask --app wsgi {' '.join(args)} (exit {result.returncode})")
    return result.returncode


def build_command(database_url: str, scale: str) -> tuple[list[str], str]:
    """``cplan generate`` at ``scale``; the Baghpat demo when the generator is not there yet."""
    if flask_command(database_url, "cplan", "generate", "--help", check=False, quiet=True) == 0:
        return ["cplan", "generate", "--scale", scale], f"scale {scale}"
    print("  `flask cplan generate` is not available: using the Baghpat demo data instead")
    return ["cplan", "demo"], "Baghpat demo"


def upgrade(database_url: str) -> None:
    """Bring a cached database to the current schema (new indexes, say), with fresh statistics."""
    from sqlalchemy import create_engine, text

    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )

    def revision():
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    before = revision()
    flask_command(database_url, "db", "upgrade", quiet=True)
    if revision() != before:
        print(f"  migrated the cached database from revision {before}; refreshing its statistics")
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def sqlite_database(config) -> tuple[str, str]:
    """The SQLite URL to benchmark, building the cached file when missing."""
    if config["sqlite"]:
        path = Path(config["sqlite"]).resolve()
        if not path.exists():
            sys.exit(f"CPLAN_BENCH_SQLITE={path} does not exist")
        url = f"sqlite:///{path}"
        upgrade(url)
        return url, f"given file {path.name}"
    CACHE.mkdir(parents=True, exist_ok=True)
    probe = f"sqlite:///{CACHE / 'probe.sqlite'}"
    command, data_set = build_command(probe, config["scale"])
    name = "demo" if command[1] == "demo" else "scale-" + config["scale"].replace(".", "_")
    path = CACHE / f"sqlite-{name}.sqlite"
    if not path.exists():
        building = path.with_suffix(".building")
        for leftover in CACHE.glob(building.name + "*"):
            leftover.unlink()
        url = f"sqlite:///{building}"
        print(f"  building {data_set} into {path} (once; later runs reuse it)")
        started = time.perf_counter()
        flask_command(url, "db", "upgrade", quiet=True)
        flask_command(url, *command)
        print(f"  built in {time.perf_counter() - started:.0f} s")
        connection = sqlite3.connect(building)
        connection.execute("ANALYZE")
        connection.close()  # the last connection folds the WAL into the file before the rename
        building.rename(path)
    url = f"sqlite:///{path}"
    upgrade(url)
    return url, data_set


def postgresql_database(config) -> tuple[str, str]:
    """The PostgreSQL database to benchmark: ``<name>_scale_<S>`` next to the given one,
    created and built when missing or left unfinished by an interrupted build."""
    import psycopg

    given = config["pg_url"].replace("postgresql+psycopg://", "postgresql://")
    parts = urlsplit(given)
    command, data_set = build_command(given, config["scale"])
    suffix = "demo" if command[1] == "demo" else "scale_" + config["scale"].replace(".", "_")
    name = f"{parts.path.lstrip('/') or 'cplan'}_{suffix}"
    url = urlunsplit(parts._replace(path="/" + name))
    marker = f"cplan bench: {data_set} complete"
    _create_if_missing(given)
    with psycopg.connect(given, autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
        if row is not None and row[0] == marker:
            upgrade(url)
            return url, data_set
        if row is not None:
            connection.execute(f'DROP DATABASE "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    print(f"  building {data_set} into PostgreSQL database {name} (once; later runs reuse it)")
    started = time.perf_counter()
    flask_command(url, "db", "upgrade", quiet=True)
    flask_command(url, *command)
    with psycopg.connect(url, autocommit=True) as connection:
        # As autovacuum leaves a live database: statistics, and a visibility map so that
        # covering indexes are read without visiting the table (index-only scans).
        connection.execute("VACUUM (ANALYZE)")
        connection.execute(f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    print(f"  built in {time.perf_counter() - started:.0f} s")
    return url, data_set


def _create_if_missing(url: str) -> None:
    """Create the database ``CPLAN_BENCH_DATABASE_URL`` names when it does not exist yet (the
    benchmark's own databases are made beside it), through the server's maintenance database."""
    import psycopg

    try:
        psycopg.connect(url, autocommit=True).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    print(f"  created the PostgreSQL database {name}")


# ---- signing in real posts and choosing the pages ---------------------------------------------


def app_settings(database_url: str, secret_key: str) -> dict:
    """The portal's settings, as ``CPLAN_*`` variables for gunicorn (production mode)."""
    return {
        "CPLAN_DATABASE_URL": database_url,
        "CPLAN_SECRET_KEY": secret_key,
        "CPLAN_ENV_NAME": "production",
        "CPLAN_SMS_BACKEND": "http",
        "CPLAN_SMS_HTTP_URL": "https://sms-gateway.invalid/send",  # never called by these pages
        "CPLAN_SMS_BROADCAST_BACKEND": "msdg",  # no worker runs: nothing is sent
        "CPLAN_SMS_BROADCAST_URL": "https://sms-gateway.invalid/msdg",
        # Each page is driven by one officer hundreds of times a second, which the per-officer
        # search limit would refuse after 60; the limiter's own cost is measured in the README.
        "CPLAN_RATELIMIT_ENABLED": "false",
        "CPLAN_LOG_LEVEL": "WARNING",
        # Production refuses to start without the audit checkpoints' key; the sign-ins' events
        # are sealed into the benchmark's own checkpoint file, never the checkout's instance/.
        # (The benchmark never verifies the trail, so a key per run does no harm.)
        "CPLAN_AUDIT_CHECKPOINT_KEY": CHECKPOINT_KEY,
        "CPLAN_AUDIT_CHECKPOINT_FILE": str(
            CACHE
            / f"audit-checkpoints-{hashlib.sha256(database_url.encode()).hexdigest()[:12]}.jsonl"
        ),
    }


def in_process_app(variables: dict):
    from cplan import create_app

    # As ``from_prefixed_env`` reads the same variables in gunicorn: JSON where it parses
    # ("false" is False), the text otherwise.
    overrides = {
        name.removeprefix("CPLAN_"): _env_value(value) for name, value in variables.items()
    }
    return create_app(overrides)


def _env_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def prepare_pages(app, pages: list[Page], profile: bool) -> tuple[int, dict]:
    """Sign in the posts, fill in each page's path and cookie, count its SQL statements.

    Returns the place id the roster page and the ceiling serve, and the data set's counts.
    """
    from sqlalchemy import event, func, select

    from cplan.extensions import db
    from cplan.models import Place, Unit, UnitKind
    from cplan.models.accounts import Officer, Post, PostAssignment, Role
    from cplan.models.roster import Contact, ContactStatus
    from cplan.services import sessions

    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    def sign_in(role, *conditions):
        row = db.session.execute(
            select(Post, Officer)
            .join(PostAssignment, PostAssignment.post_id == Post.id)
            .join(Officer, Officer.id == PostAssignment.officer_id)
            .join(Unit, Unit.id == Post.unit_id)
            .where(
                Post.role == role,
                Post.active,
                Officer.active,
                PostAssignment.ended_at.is_(None),
                *conditions,
            )
            .order_by(Post.id)
            .limit(1)
        ).first()
        if row is None:
            return None, ""
        post, officer = row
        principal = sessions.start(officer, post, user_agent="cplan bench")
        db.session.commit()
        value = serializer.dumps({"_user_id": principal.token, "_fresh": True})
        return post, f"{cookie_name}={value}"

    def device(post):
        """A device token for the officer holding ``post`` (an API page's credential)."""
        if post is None:
            return ""
        from cplan.services import device_tokens

        officer = db.session.scalar(
            select(Officer)
            .join(PostAssignment, PostAssignment.officer_id == Officer.id)
            .where(PostAssignment.post_id == post.id, PostAssignment.ended_at.is_(None))
            .limit(1)
        )
        issued = device_tokens.issue(officer, post, "cplan bench")
        db.session.commit()
        return f"Authorization: Bearer {issued.token}"

    with app.app_context():
        counts = data_set_counts()
        # The district with the most places, and in it the first station with an officer.
        district_id = db.session.execute(
            select(Place.district_id)
            .group_by(Place.district_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        district = db.session.get(Unit, district_id)
        station_post, station_cookie = sign_in(Role.STATION_OFFICER, district.covers(Unit.path))
        if station_post is None:
            station_post, station_cookie = sign_in(Role.STATION_OFFICER)
        station = station_post.unit
        # A place of that station with about ten contacts, the usual size of a roster.
        shown = (ContactStatus.ACTIVE, ContactStatus.PENDING)
        per_place = db.session.execute(
            select(Contact.place_id, func.count())
            .where(station.covers(Contact.unit_path), Contact.status.in_(shown))
            .group_by(Contact.place_id)
        ).all()
        place_id = min(per_place, key=lambda row: (abs(row[1] - 10), row[0]))[0]
        # The search: a given name of that place, as an officer would type it.
        names = db.session.scalars(
            select(Contact.name)
            .where(Contact.place_id == place_id, Contact.status == ContactStatus.ACTIVE)
            .order_by(Contact.id)
        )
        first_name = next((name for name in names if name[:1].isalpha()), "Singh")
        asp_post, asp_cookie = sign_in(Role.ASP, Post.unit_id == district.id)
        sp_post, sp_cookie = sign_in(Role.SP_OFFICE, Post.unit_id == district.id)
        if asp_post is None:  # the largest district may lack one: any district's will do
            asp_post, asp_cookie = sign_in(Role.ASP)
        if sp_post is None:
            sp_post, sp_cookie = sign_in(Role.SP_OFFICE)
        state_post, state_cookie = sign_in(Role.CONTROL_ROOM, Unit.kind == UnitKind.STATE)
        station_token, state_token = device(station_post), device(state_post)
        # A poll that catches up the last 100 changes of the incident feed.
        from cplan.models.api import IncidentChange

        behind = db.session.execute(
            select(IncidentChange.txid, IncidentChange.id)
            .order_by(IncidentChange.txid.desc(), IncidentChange.id.desc())
            .offset(100)
            .limit(1)
        ).first()
        after = f"{behind.txid}.{behind.id}" if behind else "0.0"
        chosen = {
            "roster": (station_post, station_cookie, f"/roster/places/{place_id}"),
            "search": (station_post, station_cookie, "/search?q=" + quote(first_name.split()[0])),
            "approvals": (asp_post, asp_cookie, "/enrolments/"),
            "feed_district": (sp_post, sp_cookie, "/incidents/"),
            "coverage": (
                sp_post,
                sp_cookie,
                f"/coverage/units/{sp_post.unit_id if sp_post else 0}",
            ),
            "feed_state": (state_post, state_cookie, "/incidents/"),
            "api_roster": (station_post, station_token, f"/api/v1/places/{place_id}"),
            "api_feed": (state_post, state_token, f"/api/v1/feed/incidents?after={after}"),
            "home_station": (station_post, station_cookie, "/"),
            "home_asp": (asp_post, asp_cookie, "/"),
            "home_sp": (sp_post, sp_cookie, "/"),
            "home_state": (state_post, state_cookie, "/"),
            "map_state": (state_post, state_cookie, "/map"),
        }
        for page in pages:
            post, cookie, path = chosen[page.key]
            if post is None:
                page.note = "no post of this role held by an officer in the data set"
                continue
            page.post, page.cookie, page.path = post.title_en, cookie, path
        db.session.remove()
        engine = db.engine

    # Each request outside any app context, as in a server: ``g`` (and the signed-in user
    # Flask-Login keeps there) must not carry over from one request to the next.
    statements = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_: statements.append(statement),
    )
    client = app.test_client(use_cookies=False)  # send exactly the Cookie header given
    for page in pages:
        if not page.path:
            continue
        headers = header_dict(page.cookie)
        client.get(page.path, headers=headers)  # warm caches as a worker would be
        timings = []
        for _ in range(5):
            statements.clear()
            started = time.perf_counter()
            response = client.get(page.path, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{page.label}: {page.path} answered {response.status_code} in process")
        page.statements = sum(not sql.startswith("BEGIN") for sql in statements)
        page.kilobytes = len(response.get_data()) / 1024
        page.in_process_ms = statistics.median(timings)
        if profile:
            print_profile(client, page)
    engine.dispose()  # no connection or SQLite read lock held while gunicorn runs
    return place_id, counts


def data_set_counts() -> dict:
    from sqlalchemy import func, select

    from cplan.extensions import db
    from cplan.models import Place, Unit, UnitKind
    from cplan.models.accounts import Officer, Post
    from cplan.models.incidents import Incident
    from cplan.models.roster import Contact, ContactStatus

    def count(*where, model):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return {
        "districts": count(Unit.kind == UnitKind.DISTRICT, model=Unit),
        "stations": count(Unit.kind == UnitKind.STATION, model=Unit),
        "places": count(model=Place),
        "contacts": count(model=Contact),
        "pending": count(Contact.status == ContactStatus.PENDING, model=Contact),
        "incidents": count(model=Incident),
        "posts": count(model=Post),
        "officers": count(model=Officer),
    }


def print_profile(client, page: Page, requests: int = 20) -> None:
    """The functions where ``page`` spends its time, served in-process ``requests`` times."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(page.path, headers=header_dict(page.cookie))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(12)
    print(f"\n  profile of {page.label} ({requests} requests in process, by own time):")
    for line in out.getvalue().splitlines():
        if line.strip() and not line.startswith(("   Ordered", "   List reduced")):
            print("    " + line)


# ---- gunicorn and wrk -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(app_spec: str, variables: dict, log_name: str) -> Server:
    """gunicorn with the repository's configuration, access log off, on a free local port."""
    port = free_port()
    CACHE.mkdir(parents=True, exist_ok=True)
    log = CACHE / f"{log_name}.log"
    env = dict(
        os.environ,
        **variables,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESS_LOG="",
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_MAX_REQUESTS="0",
    )
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app_spec],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn {app_spec} exited at start:\n{log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    sys.exit(f"gunicorn {app_spec} did not start listening within 120 s")


def worker_memory(master_pid: int) -> list[tuple[float, float]]:
    """(RSS, PSS) in MB of each worker, the children of ``master_pid``."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            if f"\nPPid:\t{master_pid}\n" not in status:
                continue
            rss = int(re.search(r"VmRSS:\s+([0-9]+) kB", status).group(1)) / 1024
            rollup = (entry / "smaps_rollup").read_text()
            pss = int(re.search(r"Pss:\s+([0-9]+) kB", rollup).group(1)) / 1024
        except (OSError, AttributeError):
            continue
        sizes.append((rss, pss))
    return sorted(sizes, reverse=True)


def cpu_seconds(master_pid: int | None = None, name: str | None = None) -> float:
    """User and system CPU time used so far by the children of ``master_pid`` (the workers) or
    by the processes called ``name`` (PostgreSQL's backends and helpers, on this machine)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()  # after the name: state, ppid, ...
        if (master_pid is not None and int(fields[1]) == master_pid) or (
            name is not None and head.split("(", 1)[1] == name
        ):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def stop_server(server: Server) -> None:
    server.memory = worker_memory(server.process.pid)
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def header_line(cookie: str) -> str:
    """A page's credential as one header: a session cookie, or an API page's whole
    ``Authorization: Bearer`` line."""
    return cookie if cookie.startswith("Authorization: ") else f"Cookie: {cookie}"


def header_dict(cookie: str) -> dict:
    if not cookie:
        return {}
    name, value = header_line(cookie).split(": ", 1)
    return {name: value}


def check_page(server: Server, path: str, cookie: str) -> None:
    """One request before the load: a redirect to the sign-in page would be measured silently."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    connection.request("GET", path, headers=header_dict(cookie))
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        location = response.getheader("Location", "")
        sys.exit(
            f"GET {path} answered {response.status} {location} before the load test:\n"
            f"{body[:500].decode(errors='replace')}\n(server log: {server.log})"
        )


def run_wrk(server: Server, path: str, cookie: str, seconds: int, clients: int) -> Load:
    command = [
        "wrk",
        f"-t{min(clients, os.cpu_count() or 1)}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
    ]
    if cookie:
        command += ["-H", header_line(cookie)]
    command.append(f"http://127.0.0.1:{server.port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^CPLAN_RESULT (.*)$", output, re.MULTILINE)
    if match is None:
        sys.exit(f"wrk printed no figures:\n{output}")
    figures = {
        key: int(value) for key, value in (pair.split("=") for pair in match.group(1).split())
    }
    errors = sum(figures[name] for name in ("connect", "read", "write", "status", "timeout"))
    return Load(
        figures["requests"],
        figures["duration_us"] / 1e6,
        figures["p50"] / 1000,
        figures["p95"] / 1000,
        figures["p99"] / 1000,
        errors,
    )


def measure(server: Server, path: str, cookie: str, config, database: str) -> Load:
    check_page(server, path, cookie)
    run_wrk(server, path, cookie, 2, config["clients"])  # warm every worker first
    cpu_before = cpu_seconds(master_pid=server.process.pid)
    database_before = cpu_seconds(name="postgres")
    load = run_wrk(server, path, cookie, config["seconds"], config["clients"])
    if load.requests:
        load.cpu_ms = (
            (cpu_seconds(master_pid=server.process.pid) - cpu_before) * 1000 / load.requests
        )
        if database == "postgresql":  # SQLite runs inside the workers: already counted
            load.database_cpu_ms = (
                (cpu_seconds(name="postgres") - database_before) * 1000 / load.requests
            )
    return load


# ---- one database -----------------------------------------------------------------------------


def bench_database(kind: str, config) -> dict:
    print(f"\n== HTTP benchmark on {kind}")
    if kind == "sqlite":
        url, data_set = sqlite_database(config)
    elif kind == "postgresql":
        if not config["pg_url"].startswith(("postgresql", "postgres:")):
            sys.exit("CPLAN_BENCH_DATABASE_URL must be a postgresql:// URL for the PostgreSQL run")
        url, data_set = postgresql_database(config)
    else:
        sys.exit(f"unknown database kind {kind!r} in CPLAN_BENCH_DATABASES (sqlite, postgresql)")
    variables = app_settings(url, secrets.token_urlsafe(48))
    app = in_process_app(variables)
    pages = [page for page in page_list() if not config["pages"] or page.key in config["pages"]]
    place_id, counts = prepare_pages(app, pages, config["profile"])
    facts = database_facts(app, url)

    loadavg = os.getloadavg()[0]
    ceiling = start_server(
        "bench.ceiling:create_app()", {"CPLAN_BENCH_CEILING_DATABASE_URL": url}, f"ceiling-{kind}"
    )
    try:
        print(f"  ceiling: /places/{place_id}")
        ceiling_load = measure(ceiling, f"/places/{place_id}", "", config, kind)
    finally:
        stop_server(ceiling)
    portal = start_server(config["app"], variables, f"portal-{kind}")
    loads = {}
    try:
        for page in pages:
            if page.path:
                print(f"  {page.label}: {page.path} as {page.post}")
                loads[page.key] = measure(portal, page.path, page.cookie, config, kind)
    finally:
        stop_server(portal)
    return {
        "server_errors": server_errors(portal.log),
        "kind": kind,
        "data_set": data_set,
        "counts": counts,
        "facts": facts,
        "loadavg": loadavg,
        "ceiling": ceiling_load,
        "ceiling_memory": ceiling.memory,
        "pages": pages,
        "loads": loads,
        "memory": portal.memory,
        "workers": len(portal.memory),
        "config": config,
    }


def server_errors(log: Path) -> str:
    """How many requests failed with an exception in the server's log, and the commonest one."""
    text = log.read_text(errors="replace")
    failures = len(re.findall(r" ERROR .*Exception on ", text))
    if not failures:
        return ""
    causes = re.findall(r"^(\w[\w.]*(?:Error|Exception)[^\n]*)$", text, re.MULTILINE)
    commonest = max(set(causes), key=causes.count) if causes else "see the log"
    return f"{failures} requests failed with an exception (commonest: {commonest[:120]})"


def database_facts(app, url: str) -> dict:
    from sqlalchemy import text

    from cplan.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            version = "SQLite " + sqlite3.sqlite_version
            size = Path(db.engine.url.database).stat().st_size
        else:
            version = "PostgreSQL " + db.session.scalar(text("SHOW server_version"))
            size = db.session.scalar(text("SELECT pg_database_size(current_database())"))
        db.session.remove()
        db.engine.dispose()
    return {"version": version, "size_mb": size / 2**20}


# ---- the report -------------------------------------------------------------------------------


def verdicts(result) -> list[tuple[str, bool]]:
    """Each target of issues 7 and 20 (and 17 for the home pages) with whether it is met."""
    ceiling = result["ceiling"].rps
    out = []
    for page in result["pages"]:
        load = result["loads"].get(page.key)
        if load is None:
            continue
        if not load.requests:
            out.append(
                (
                    f"{page.label}: no request completed within the run "
                    f"({load.errors} failed or timed out after 10 s)",
                    False,
                )
            )
            continue
        text = f"{page.label}: p95 {load.p95_ms:.0f} ms < {page.p95_target_ms:.0f} ms"
        met = load.p95_ms < page.p95_target_ms and load.errors == 0
        if page.key in CEILING_RATIO_TARGETS:
            target = CEILING_RATIO_TARGETS[page.key]
            ratio = load.rps / ceiling if ceiling else 0
            text += f", throughput {ratio:.0%} of the ceiling >= {target:.0%}"
            met = met and ratio >= target
        if load.errors:
            text += f" ({load.errors} failed requests)"
        out.append((text, met))
    largest = max((rss for rss, _ in result["memory"]), default=0)
    out.append(
        (
            f"each worker under {WORKER_RSS_TARGET_MB} MB resident: largest {largest:.0f} MB",
            bool(result["memory"]) and largest < WORKER_RSS_TARGET_MB,
        )
    )
    return out


def rate(rps: float) -> str:
    return f"{rps:.0f}" if rps >= 10 else f"{rps:.1f}"


def table(result) -> list[str]:
    ceiling = result["ceiling"]
    lines = [
        "| page | signed in as | req/s | of ceiling | p50 ms | p95 ms | p99 ms | target p95 | "
        "failed | CPU ms/req | DB CPU ms/req | SQL/req | in-process ms | KB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| ceiling (bare Flask, 1 query) | nobody | {rate(ceiling.rps)} | 100% | "
        f"{ceiling.p50_ms:.1f} | {ceiling.p95_ms:.1f} | {ceiling.p99_ms:.1f} | | {ceiling.errors} "
        f"| {ceiling.cpu_ms:.1f} | {database_cpu(ceiling)} | 1 | | |",
    ]
    for page in result["pages"]:
        load = result["loads"].get(page.key)
        if load is None:
            lines.append(
                f"| {page.label} | | | | | | | {page.p95_target_ms:.0f} | | | | | {page.note} | |"
            )
            continue
        ratio = load.rps / ceiling.rps if ceiling.rps else 0
        if not load.requests:
            lines.append(
                f"| {page.label} | {page.post} | 0 | 0% | | | | {page.p95_target_ms:.0f} | "
                f"{load.errors} | | | {page.statements} | {page.in_process_ms:.1f} | "
                f"{kilobytes(page)} |"
            )
            continue
        mark = "" if load.p95_ms < page.p95_target_ms else " ✗"
        lines.append(
            f"| {page.label} | {page.post} | {rate(load.rps)} | {ratio:.0%} | {load.p50_ms:.1f} | "
            f"{load.p95_ms:.1f}{mark} | {load.p99_ms:.1f} | {page.p95_target_ms:.0f} | "
            f"{load.errors} | {load.cpu_ms:.1f} | {database_cpu(load)} | {page.statements} | "
            f"{page.in_process_ms:.1f} | {kilobytes(page)} |"
        )
    return lines


def kilobytes(page: Page) -> str:
    return "" if page.kilobytes is None else f"{page.kilobytes:.1f}"


def database_cpu(load: Load) -> str:
    return "–" if load.database_cpu_ms is None else f"{load.database_cpu_ms:.1f}"


def memory_lines(result) -> list[str]:
    def describe(sizes):
        if not sizes:
            return "not measured"
        rss = ", ".join(f"{size:.0f}" for size, _ in sizes)
        pss = ", ".join(f"{size:.0f}" for _, size in sizes)
        return f"RSS {rss} MB; PSS (shared pages divided) {pss} MB"

    return [
        f"- portal workers ({len(result['memory'])}): {describe(result['memory'])}",
        f"- ceiling workers: {describe(result['ceiling_memory'])}",
    ]


def machine_facts() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        ram_kb = int(re.search(r"MemTotal:\s+([0-9]+)", handle.read()).group(1))
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return {
        "cores": os.cpu_count(),
        "ram_gb": ram_kb / 2**20,
        "cpu": cpu,
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "gunicorn": metadata.version("gunicorn"),
        "flask": metadata.version("flask"),
        "sqlalchemy": metadata.version("sqlalchemy"),
        "wrk": (wrk.stdout + wrk.stderr).split("\n")[0].split(" [")[0].strip(),
    }


def section(result, machine) -> str:
    config, counts, facts = result["config"], result["counts"], result["facts"]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {facts['version']}",
        "",
        f"Run {now}: {result['data_set']} ({counts['districts']:,} districts, "
        f"{counts['stations']:,} stations, {counts['places']:,} places, {counts['contacts']:,} "
        f"contacts of which {counts['pending']:,} pending, {counts['incidents']:,} incidents, "
        f"{counts['posts']:,} posts), database {facts['size_mb']:,.0f} MB.",
        f"{config['clients']} concurrent clients (wrk), {config['seconds']} s per page after a 2 s "
        f"warm-up, gunicorn.conf.py with {result['workers']} sync workers, production settings; "
        f"load average {result['loadavg']:.2f} at the start (the machine is shared).",
        f"Machine: {machine['cores']} cores, {machine['cpu']}, {machine['ram_gb']:.0f} GB RAM, "
        f"{machine['os']}; Python {machine['python']}, Flask {machine['flask']}, SQLAlchemy "
        f"{machine['sqlalchemy']}, gunicorn {machine['gunicorn']}, {machine['wrk']}, "
        f"{facts['version']}.",
        "",
        *table(result),
        "",
        "Worker memory after the run:",
        "",
        *memory_lines(result),
        *([f"- server log: {result['server_errors']}"] if result["server_errors"] else []),
        "",
        "Targets (issues 7 and 20; the home pages issue 17):",
        "",
        *(f"- {'met' if met else 'MISSED'}: {text}" for text, met in verdicts(result)),
    ]
    return "\n".join(lines) + "\n"


RESULTS_HEAD = """# HTTP benchmark results

Written by `make bench` (bench/web.py); each database's section is replaced by its latest run.
"req/s" is the whole server's throughput for that one page; "of ceiling" divides it by the
bare-Flask ceiling (bench/ceiling.py: the same village roster from one raw SQL query and a
minimal template, under the same gunicorn settings). "failed" counts errors and responses other
than 2xx/3xx during the load. "CPU ms/req" is the CPU time gunicorn's workers used per
request during the load, "DB CPU ms/req" what PostgreSQL's processes used (SQLite runs inside
the workers: its share is in the first column). Unlike latency these hardly depend on what else
the machine is doing, and cores x 1000 / (their sum) bounds the throughput.
"SQL/req" and "in-process ms" come from the Flask test client with no concurrency: how many
statements one request runs, and how long the app itself takes to answer; "KB" is the page as
the app sends it uncompressed (wrk asks for no compression).
"""


def write_results(results: list[dict], machine: dict) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else RESULTS_HEAD
    if not text.startswith(RESULTS_HEAD):  # a new explanation: keep the sections and notes below
        first = text.find("<!-- ")
        text = RESULTS_HEAD + ("\n" + text[first:] if first >= 0 else "")
    for result in results:
        start, end = f"<!-- {result['kind']}:start -->", f"<!-- {result['kind']}:end -->"
        block = f"{start}\n{section(result, machine)}{end}\n"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end) + "\n?", re.DOTALL)
        found = pattern.search(text)
        if found:
            text = text[: found.start()] + block + text[found.end() :]
        else:
            text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


def wrk_missing() -> bool:
    """True (after saying how to install it) when wrk is not on the PATH."""
    if shutil.which("wrk") is not None:
        return False
    print(
        "bench: the HTTP benchmark needs wrk, the C load generator. Install it with\n"
        "    sudo apt-get install -y wrk        (Debian/Ubuntu)\n"
        "    brew install wrk                   (macOS)\n"
        "and run `make bench` again.",
        file=sys.stderr,
    )
    return True


def main() -> int:
    if wrk_missing():
        return 2
    config = settings()
    machine = machine_facts()
    experiment = bool(config["pages"]) or config["app"] != "wsgi:app"
    for kind in config["kinds"]:
        result = bench_database(kind, config)
        print("\n" + section(result, machine))
        if experiment:
            print(
                f"an experiment (CPLAN_BENCH_PAGES or CPLAN_BENCH_APP): {RESULTS.name} left as it "
                "was"
            )
        else:  # each database's section as soon as it is measured
            write_results([result], machine)
            print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
