"""How long SQLite writers wait for the write lock when several processes write at once.

Every SQLite write transaction begins IMMEDIATE (``cplan.extensions``): it takes the database's
one write lock first, and a writer that finds it taken waits, polling, up to the busy timeout
(``SQLITE_BUSY_TIMEOUT_MS``), then fails with "database is locked". This measures the wait.

``CPLAN_BENCH_WRITERS`` processes (default ``2,4,8``: gunicorn's default for 2 cores is 5
workers) each write for ``CPLAN_BENCH_SECONDS`` (default 10) what a request writes: one audit
event through ``audit.record`` and a COMMIT, then pause for a random time, on average
``CPLAN_BENCH_PAUSE_MS`` (default 20: a worker serving its next request; ``0``: back to back,
every worker writing all the time, the worst case). The busy timeout is set far above any
wait (60 s), so nothing fails and the longest wait is seen whole. Each BEGIN IMMEDIATE is
timed from the statement being sent to the lock being held. It prints, per writer count, the
transactions, the median, p99, p99.9 and longest wait, and the load average, which decides
much of it: a writer holding the lock but descheduled makes every other one wait. SQLite's
waiters poll, sleeping up to 100 ms between tries, and nothing queues them: a writer that has
just committed often takes the lock again before a sleeper wakes, so the longest wait grows
much faster than the number of writers (README "Faults").

    .venv/bin/python bench/sqlite_writers.py
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUSY_TIMEOUT_MS = 60_000


def app_config(path: str, folder: str) -> dict:
    return {
        "ENV_NAME": "testing",
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SQLITE_BUSY_TIMEOUT_MS": BUSY_TIMEOUT_MS,
        "SMS_BACKEND": "memory",
        "AUDIT_SEAL_AFTER_COMMIT": None,
        "AUDIT_CHECKPOINT_KEY": "bench-checkpoint-key-0123456789-abcdefghij",
        "AUDIT_CHECKPOINT_FILE": str(Path(folder) / "checkpoints.jsonl"),
    }


def _write(config: dict, seconds: float, pause: float, barrier, results) -> None:
    from sqlalchemy import event

    from cplan import create_app
    from cplan.extensions import db
    from cplan.services import audit

    app = create_app(config)
    waits: list[float] = []
    failures = 0
    with app.app_context():
        started = {}

        def before(connection, cursor, statement, *args):
            if statement == "BEGIN IMMEDIATE":
                started["at"] = time.perf_counter()

        def after(connection, cursor, statement, *args):
            if statement == "BEGIN IMMEDIATE":
                waits.append(time.perf_counter() - started.pop("at"))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        barrier.wait()
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            try:
                audit.record("bench.write", detail={"n": n})
                db.session.commit()
            except Exception:  # noqa: BLE001 - counted: the figure is how many fail
                db.session.rollback()
                failures += 1
            if pause:
                time.sleep(random.uniform(0, 2 * pause))
    results.put((waits, failures))


def run(writers: int, config: dict, seconds: float, pause: float) -> tuple[list[float], int]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    results = context.Queue()
    processes = [
        context.Process(target=_write, args=(config, seconds, pause, barrier, results))
        for _ in range(writers)
    ]
    for process in processes:
        process.start()
    waits: list[float] = []
    failures = 0
    for _ in processes:
        some, failed = results.get()
        waits += some
        failures += failed
    for process in processes:
        process.join()
    return waits, failures


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    from cplan import create_app
    from cplan.extensions import db

    seconds = float(os.environ.get("CPLAN_BENCH_SECONDS", "10"))
    pause = float(os.environ.get("CPLAN_BENCH_PAUSE_MS", "20")) / 1000
    counts = [int(n) for n in os.environ.get("CPLAN_BENCH_WRITERS", "2,4,8").split(",")]
    print(
        f"SQLite writers, {seconds:.0f} s each, pausing {pause * 1000:.0f} ms on average between "
        f"writes, busy timeout {BUSY_TIMEOUT_MS / 1000:.0f} s"
    )
    print("writers  transactions  failed  median ms  p99 ms  p99.9 ms  longest s  load average")
    with tempfile.TemporaryDirectory() as folder:
        for writers in counts:
            path = str(Path(folder) / f"writers-{writers}.sqlite")
            config = app_config(path, folder)
            app = create_app(config)
            with app.app_context():
                db.create_all()
                db.engine.dispose()
            waits, failures = run(writers, config, seconds, pause)
            load = " ".join(f"{value:.1f}" for value in os.getloadavg())
            print(
                f"{writers:7d}  {len(waits):12d}  {failures:6d}  "
                f"{statistics.median(waits) * 1000:9.1f}  {quantile(waits, 0.99) * 1000:6.0f}  "
                f"{quantile(waits, 0.999) * 1000:8.0f}  {max(waits):9.2f}  {load}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
