"""Two app servers, one PostgreSQL database: what a second machine must not break.

Run by ``make two-servers`` (and .ci/run) with the project's virtualenv. It loads the Baghpat
demo into a fresh database (``CPLAN_TWO_SERVERS_DATABASE_URL``, default
``postgresql://root@/cplan_two_servers?host=/var/run/postgresql``), starts two separate
gunicorn servers on two ports with the same settings, and then:

1. signs a station post in on server A (CUG, the code from A's console, PNO and password) and
   opens a village roster on server B with the same cookie;
2. signs the ASP in on A and the SP office on B, and both approve the same pending enrolment
   at the same moment: exactly one decides it, the other is told it was already decided;
3. seals the trail and runs ``flask cplan audit verify``: intact, every event sealed, and the
   trail holds each server's sign-in and roster events and exactly one approval.

Exit 0 on success; otherwise the reason and the servers' last log lines.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cplan.devdata.demo_people import DEMO_PASSWORD, DEMO_POSTS  # noqa: E402

DEFAULT_URL = "postgresql://root@/cplan_two_servers?host=/var/run/postgresql"


class Failed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One gunicorn with the repository's configuration, its output in a log file."""

    def __init__(self, name: str, env: dict, folder: Path):
        self.name = name
        self.port = free_port()
        self.log = folder / f"{name}.log"
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(
            env,
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY="2",
            CPLAN_AUDIT_CHECKPOINT_FILE=str(folder / f"{name}-checkpoints.jsonl"),
        )
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Failed(f"server {self.name} exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.3)
        raise Failed(f"server {self.name} did not listen within 120 s")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def code_for(self, cug: str, after: int) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(
                rf"\[sms\] to={re.escape(cug)} .*?([0-9]{{6}})", self.output()[after:]
            )
            if found:
                return found.group(1)
            time.sleep(0.2)
        raise Failed(f"server {self.name} printed no sign-in code for {cug}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Browser:
    """One person's cookies, used against any server (cookies do not depend on the port)."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, server: Server, path: str) -> tuple[str, str]:
        with self.opener.open(server.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode("utf-8")

    def post(self, server: Server, path: str, fields: dict, page: str) -> tuple[str, str]:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        body = urllib.parse.urlencode(dict(fields, csrf_token=token.group(1) if token else ""))
        with self.opener.open(server.base + path, data=body.encode(), timeout=30) as response:
            return response.geturl(), response.read().decode("utf-8")


def demo_post(role: str):
    for spec in DEMO_POSTS:
        if spec.role.value == role and spec.officers:
            return spec
    raise Failed(f"the demo has no {role} post")


def sign_in(browser: Browser, server: Server, spec) -> None:
    cug = spec.cug
    _url, page = browser.get(server, "/auth/sign-in")
    before = len(server.output())
    url, page = browser.post(server, "/auth/sign-in", {"cug": cug[3:]}, page)
    if "/auth/code" not in url:
        raise Failed(f"the CUG step of {spec.title_en} on {server.name} went to {url}")
    code = server.code_for(cug, before)
    url, page = browser.post(server, "/auth/code", {"code": code}, page)
    if "/auth/officer" not in url:
        raise Failed(f"the code step of {spec.title_en} on {server.name} went to {url}")
    pno = spec.officers[0][0]
    url, page = browser.post(server, "/auth/officer", {"pno": pno, "password": DEMO_PASSWORD}, page)
    if "/auth/" in url:
        raise Failed(f"the officer step of {spec.title_en} on {server.name} stayed on {url}")


def continue_on_the_other(browser: Browser, other: Server) -> str:
    url, page = browser.get(other, "/search?q=" + urllib.parse.quote("Baraut"))
    if "/auth/" in url:
        raise Failed(f"server {other.name} did not know the session begun on the first server")
    place = re.search(r'href="(/roster/places/[0-9]+)"', page)
    if place is None:
        raise Failed(f"the search on {other.name} lists no village roster")
    _url, page = browser.get(other, place.group(1))
    title = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    if title is None:
        return "?"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", title.group(1))).split())


def approve_on_both(approvers: list[Browser], servers: list[Server]) -> tuple[int, list[str]]:
    """The same pending enrolment approved by two signed-in approvers, one on each server, at
    the same moment; the pages they come back to."""
    _url, queue = approvers[0].get(servers[0], "/enrolments/")
    form = re.search(
        r'action="(/enrolments/([0-9]+)/approve)".*?name="version" value="([0-9]+)"', queue, re.S
    )
    if form is None:
        raise Failed("the ASP's approval queue lists no pending enrolment")
    action, contact_id, version = form.group(1), int(form.group(2)), form.group(3)
    start = threading.Barrier(2)
    answers = ["", ""]

    def send(index: int) -> None:
        _url, page = approvers[index].get(servers[index], "/enrolments/")
        start.wait()
        try:
            _url, answers[index] = approvers[index].post(
                servers[index], action, {"version": version}, page
            )
        except urllib.error.HTTPError as error:
            answers[index] = f"HTTP {error.code}"

    threads = [threading.Thread(target=send, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return contact_id, answers


def flask(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def fresh_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def check_trail(env: dict, url: str, contact_id: int) -> str:
    import psycopg

    sealed = flask(env, "cplan", "audit-sealer", "--once")
    if sealed.returncode:
        raise Failed(f"the sealer failed: {sealed.stderr[-2000:]}")
    verified = flask(env, "cplan", "audit", "verify")
    if verified.returncode:
        raise Failed(f"audit verify failed: {verified.stdout}{verified.stderr[-2000:]}")
    with psycopg.connect(url) as connection:
        unsealed, approvals, sign_ins = connection.execute(
            "SELECT count(*) FILTER (WHERE seq IS NULL),"
            " count(*) FILTER (WHERE action = 'enrolment.approved' AND target_id = %s),"
            " count(*) FILTER (WHERE action = 'auth.sign_in')"
            " FROM audit_events",
            (contact_id,),
        ).fetchone()
    if unsealed or approvals != 1 or sign_ins < 2:
        raise Failed(
            f"the trail holds {unsealed} unsealed events, {approvals} approvals of contact "
            f"{contact_id} (1 expected) and {sign_ins} sign-ins (2 expected)"
        )
    return verified.stdout.splitlines()[0]


def main() -> int:
    url = os.environ.get("CPLAN_TWO_SERVERS_DATABASE_URL", DEFAULT_URL)
    folder = Path(tempfile.mkdtemp(prefix="cplan-two-servers-"))
    env = dict(
        os.environ,
        CPLAN_DATABASE_URL=url,
        CPLAN_ENV_NAME="development",
        CPLAN_SECRET_KEY=os.urandom(24).hex(),
        CPLAN_AUDIT_CHECKPOINT_KEY=os.urandom(24).hex(),
        CPLAN_AUDIT_CHECKPOINT_FILE=str(folder / "checkpoints.jsonl"),
        CPLAN_SMS_BACKEND="console",
    )
    fresh_database(url)
    for step in (("db", "upgrade"), ("cplan", "demo")):
        done = flask(env, *step)
        if done.returncode:
            print(f"two servers: flask {' '.join(step)} failed:\n{done.stderr[-3000:]}")
            return 1
    servers = [Server("a", env, folder), Server("b", env, folder)]
    try:
        for server in servers:
            server.wait_until_serving()
        first, second = servers
        station = Browser()
        sign_in(station, first, demo_post("station_officer"))
        roster = continue_on_the_other(station, second)
        print(f"two servers: signed in on {first.base}, opened {roster} on {second.base}")
        approvers = [Browser(), Browser()]
        # Two approvers of the district, the ASP on one server and the SP office on the other
        # (a post's second sign-in code within the minute would be throttled).
        for approver, server, role in zip(approvers, servers, ("asp", "sp_office"), strict=True):
            sign_in(approver, server, demo_post(role))
        contact_id, answers = approve_on_both(approvers, servers)
        approved = sum("is approved and joins the roster" in answer for answer in answers)
        if approved != 1:
            raise Failed(f"{approved} of the two simultaneous approvals said it approved")
        print(f"two servers: contact {contact_id} approved on both at once, decided once")
        print(f"two servers: {check_trail(env, url, contact_id)}")
        return 0
    except (Failed, urllib.error.URLError, OSError) as error:
        print(f"two servers: FAILED: {error}", file=sys.stderr)
        for server in servers:
            print(f"--- server {server.name}:\n{server.output()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
