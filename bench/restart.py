"""What restarting gunicorn costs the requests in flight: a graceful reload (HUP) and a restart
(the service stopped with TERM, then started again, as ``systemctl restart`` does).

gunicorn runs with the committed ``gunicorn.conf.py`` (``WEB_CONCURRENCY`` workers, default 3
here) in front of a migrated SQLite file in a temporary folder. ``CPLAN_BENCH_CLIENTS`` clients
(default 8) ask ``/readyz`` back to back, a new connection each time (it opens a database
connection and checks the migrations: a request that does some work); the script reloads, then
restarts, the server under that load and counts what the clients got in each phase: answers by
status, refused connections, connections cut or reset, and the longest time without any answer.

    .venv/bin/python bench/restart.py
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(folder: str, port: int) -> dict:
    return {
        **os.environ,
        "CPLAN_ENV_NAME": "development",
        "CPLAN_SECRET_KEY": "restart-bench-secret-key-long-enough-0123456789",
        "CPLAN_DATABASE_URL": f"sqlite:///{folder}/restart.sqlite",
        "CPLAN_AUDIT_CHECKPOINT_FILE": f"{folder}/checkpoints.jsonl",
        "CPLAN_HEALTH_OUTBOX_STUCK_MINUTES": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "3"),
        "GUNICORN_LOG_LEVEL": "warning",
    }


def start(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


def wait_ready(port: int, timeout: float = 300) -> None:
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = ask(port)
            if last == 200:
                return
        except OSError as error:
            last = error
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not start: {last}")


def ask(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=35)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Load:
    """Clients asking back to back; each answer (or failure) recorded with its time."""

    def __init__(self, port: int, clients: int):
        self.port, self.clients = port, clients
        self.outcomes: list[tuple[float, float, str]] = []  # (sent, answered, outcome)
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def _client(self):
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                outcome = str(ask(self.port))
            except ConnectionRefusedError:
                outcome = "refused"
                time.sleep(0.01)
            except (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError):
                outcome = "cut"
            except OSError as error:
                outcome = type(error).__name__
            self.outcomes.append((sent, time.monotonic(), outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def phase(self, start: float, end: float) -> tuple[Counter, float]:
        """Outcomes of the requests sent in [start, end), and the longest gap between answers
        of 200 in that window."""
        inside = [o for o in self.outcomes if start <= o[0] < end]
        answered = sorted(o[1] for o in inside if o[2] == "200")
        gaps = [b - a for a, b in zip(answered, answered[1:], strict=False)]
        return Counter(o[2] for o in inside), max(gaps, default=0.0)


def main() -> int:
    clients = int(os.environ.get("CPLAN_BENCH_CLIENTS", "8"))
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = environment(folder, port)
        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        log = open(Path(folder) / "gunicorn.log", "w")  # noqa: SIM115 - closed below
        server = start(env, log)
        try:
            wait_ready(port)
        except SystemExit:
            log.close()
            print((Path(folder) / "gunicorn.log").read_text()[-3000:])
            raise
        marks = {}
        with Load(port, clients) as load:
            marks["steady"] = time.monotonic()
            time.sleep(5)
            marks["reload"] = time.monotonic()
            server.send_signal(signal.SIGHUP)  # new workers first, then the old ones finish
            time.sleep(8)
            marks["restart"] = time.monotonic()
            server.send_signal(signal.SIGTERM)  # systemctl restart: stop, wait, start
            server.wait()
            stopped = time.monotonic()
            server = start(env, log)
            wait_ready(port)
            marks["restarted"] = time.monotonic()
            time.sleep(3)
            marks["end"] = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait()
        log.close()
    load_average = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"gunicorn restart under load: {clients} clients on /readyz, load average {load_average}")
    phases = [
        ("steady, 5 s", "steady", "reload"),
        ("graceful reload (HUP), 8 s", "reload", "restart"),
        ("restart (TERM, then start)", "restart", "restarted"),
        ("after, 3 s", "restarted", "end"),
    ]
    for name, start_mark, end_mark in phases:
        outcomes, gap = load.phase(marks[start_mark], marks[end_mark])
        print(f"{name:30s} {dict(sorted(outcomes.items()))}  longest without an answer {gap:.2f} s")
    term = marks["restart"]
    during = [o for o in load.outcomes if term <= o[0] < marks["restarted"]]

    def first_last(kind):
        times = sorted(o[1] - term for o in during if o[2] == kind)
        return f"{times[0]:.2f}-{times[-1]:.2f} s" if times else "none"

    print(
        "after TERM: answered 200 "
        + first_last("200")
        + ", cut "
        + first_last("cut")
        + ", refused "
        + first_last("refused")
    )
    print(
        f"restart: the old server took {stopped - marks['restart']:.2f} s to stop, "
        f"the new one {marks['restarted'] - stopped:.2f} s to answer"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
