"""Audited writes against plain inserts, from 1, 2 and 4 processes, on PostgreSQL.

Each process appends as fast as it can for ``CPLAN_BENCH_SECONDS`` (after a 1 s warm-up), one
event and one commit at a time, either

- **plain**: an INSERT of the same row (the same values, as parameters) into a table of the
  same columns and indexes as the trail had before it was sealed in batches, with no trigger,
  no chain and none of the trail's checks, then COMMIT; or
- **audited**: ``audit.record(...)`` then COMMIT, with the sealer working as in production: a
  sealer process (``flask cplan audit-sealer``'s loop) runs beside them, and the writers seal
  what it leaves waiting (``AUDIT_SEAL_AFTER_COMMIT``, try-lock). The sealing's cost is in the
  figure.

Each cell is run ``ROUNDS`` times, plain and audited in turn, and the median counts: the
machine is shared, and a neighbour's burst should not decide a cell. It prints events per
second, audited as a share of plain (target: at least 80% at every
process count), then seals what is left and checks the whole trail with ``verify_chain``, and
refreshes the "Audited writes" section of bench/RESULTS.md. Needs ``CPLAN_BENCH_DATABASE_URL``
(a PostgreSQL URL): the run uses a database next to it named ``<name>_audit_writes``, created
afresh each time. ``CPLAN_BENCH_AUDIT_PROCESSES`` overrides the process counts (``1,2,4``).
"""

import multiprocessing
import os
import platform
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "RESULTS.md"
TARGET = 0.8
WARM_UP = 1.0
ROUNDS = 3
START, END = "<!-- audit_writes:start -->", "<!-- audit_writes:end -->"

PLAIN_TABLE = """
CREATE TABLE bench_plain_events (
    id BIGSERIAL PRIMARY KEY,
    seq BIGINT UNIQUE,
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
    action VARCHAR(64) NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    officer_id INTEGER,
    officer_pno VARCHAR(20) NOT NULL,
    post_id INTEGER,
    post_title VARCHAR(200) NOT NULL,
    unit_path VARCHAR(255),
    target_type VARCHAR(64),
    target_id BIGINT,
    detail TEXT NOT NULL,
    ip_address VARCHAR(64) NOT NULL,
    prev_hash VARCHAR(64),
    hash VARCHAR(64)
);
CREATE INDEX ix_bench_plain_unit_path ON bench_plain_events (unit_path);
CREATE INDEX ix_bench_plain_occurred_at ON bench_plain_events (occurred_at);
CREATE INDEX ix_bench_plain_officer_pno ON bench_plain_events (officer_pno);
CREATE INDEX ix_bench_plain_target ON bench_plain_events (target_type, target_id);
"""


def app_config(url: str, checkpoints: str) -> dict:
    return {
        "ENV_NAME": "development",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "AUDIT_CHECKPOINT_KEY": "bench-checkpoint-key-" + "0123456789abcdef" * 2,
        "AUDIT_CHECKPOINT_FILE": checkpoints,
        "SQLALCHEMY_DATABASE_URI": url,
        "LOG_LEVEL": "WARNING",
    }


def _append(mode: str, config: dict, seconds: float, barrier, worker: int, results):
    """One writing process: once every process is ready, append events for ``WARM_UP`` and
    then ``seconds`` more, counting the latter."""
    import json

    from sqlalchemy import MetaData, Table, insert

    from cplan import create_app
    from cplan.extensions import db
    from cplan.models.base import utcnow
    from cplan.services import audit

    app = create_app(config)
    with app.app_context():
        insert_plain = insert(Table("bench_plain_events", MetaData(), autoload_with=db.engine))
        db.session.commit()
        barrier.wait(timeout=120)
        measure_from = time.time() + WARM_UP
        stop_at = measure_from + seconds
        count = 0
        n = 0
        while True:
            now = time.time()
            if now >= stop_at:
                break
            n += 1
            if mode == "plain":
                row = {
                    "occurred_at": utcnow(),
                    "action": "roster.viewed",
                    "outcome": "success",
                    "officer_id": None,
                    "officer_pno": "",
                    "post_id": None,
                    "post_title": "",
                    "unit_path": None,
                    "target_type": "places",
                    "target_id": n,
                    "detail": json.dumps({"village": n, "worker": worker}, sort_keys=True),
                    "ip_address": "10.0.0.1",
                }
                db.session.execute(insert_plain, row)
            else:
                audit.record(
                    "roster.viewed",
                    target_type="places",
                    target_id=n,
                    detail={"village": n, "worker": worker},
                    ip_address="10.0.0.1",
                )
            db.session.commit()
            if now >= measure_from:
                count += 1
        db.engine.dispose()
    results.put(count)


def _seal_beside(config: dict, stop_event) -> None:
    """The sealer process of production, sealing every second until told to stop."""
    from cplan import create_app
    from cplan.services import audit_sealer

    app = create_app(config)
    with app.app_context():
        audit_sealer.run_sealer(interval=1.0, stop=stop_event.is_set)


def run(mode: str, processes: int, config: dict, seconds: float) -> float:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    stop_sealer = context.Event()
    sealer = None
    if mode == "audited":
        sealer = context.Process(target=_seal_beside, args=(config, stop_sealer))
        sealer.start()
    barrier = context.Barrier(processes)  # the processes start appending together
    workers = [
        context.Process(target=_append, args=(mode, config, seconds, barrier, worker, results))
        for worker in range(processes)
    ]
    for worker in workers:
        worker.start()
    counts = [results.get(timeout=seconds + 180) for _ in workers]
    for worker in workers:
        worker.join()
    if sealer is not None:
        stop_sealer.set()
        sealer.join(timeout=30)
    return sum(counts) / seconds


def bench_database(given: str) -> str:
    """A fresh database ``<name>_audit_writes`` beside ``given`` (created whatever exists)."""
    import psycopg

    plain = given.replace("postgresql+psycopg://", "postgresql://")
    parts = urlsplit(plain)
    name = f"{parts.path.lstrip('/') or 'cplan'}_audit_writes"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path="/" + name))


def prepare(config: dict) -> str:
    from sqlalchemy import text

    from cplan import create_app
    from cplan.extensions import db

    app = create_app(config)
    with app.app_context():
        db.create_all()  # the models' schema, with the trail's triggers
        with db.engine.begin() as connection:
            for statement in PLAIN_TABLE.strip().split(";"):
                if statement.strip():
                    connection.execute(text(statement))
            version = connection.execute(text("SHOW server_version")).scalar()
        db.engine.dispose()
    return version


def check_trail(config: dict) -> tuple[int, str]:
    """Seal what is left and verify the whole trail: (events checked, verdict)."""
    from cplan import create_app
    from cplan.extensions import db
    from cplan.services import audit, audit_sealer

    app = create_app(config)
    with app.app_context():
        audit_sealer.seal()
        result = audit.verify_chain()
        db.engine.dispose()
    if result.ok and result.unsealed == 0:
        return result.checked, "intact, every event sealed, head matches the signed checkpoint"
    return result.checked, f"BROKEN at seq {result.first_broken_seq}: {result.reason}"


def section(rows, seconds, version, checked, verdict, loadavg) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Audited writes (PostgreSQL)",
        "",
        f"Run {now} by bench/audit_writes.py on PostgreSQL {version}: each process appends one"
        f" event and commits, {seconds:g} s after a 1 s warm-up, the median of {ROUNDS} rounds"
        " taken in turn; audited writes with the"
        " sealer process running (its cost included; writers seal only what it leaves waiting);"
        f" load average {loadavg:.2f} at the start (the machine is shared).",
        f"Machine: {os.cpu_count()} cores, {platform.platform(terse=True)}, Python"
        f" {platform.python_version()}.",
        "",
        "| processes | plain INSERT + commit | audit.record + commit | audited / plain |",
        "|---:|---:|---:|---:|",
    ]
    for processes, plain, audited in rows:
        lines.append(f"| {processes} | {plain:,.0f}/s | {audited:,.0f}/s | {audited / plain:.0%} |")
    lines += [
        "",
        f"Trail after the run: {checked:,} events, {verdict}.",
        "",
        "Target (issue 20): audited appends at least 80% of plain inserts at every process count:",
        "",
    ]
    for processes, plain, audited in rows:
        met = audited >= TARGET * plain
        lines.append(
            f"- {'met' if met else 'MISSED'}: {processes} process(es): {audited / plain:.0%}"
        )
    return "\n".join(lines) + "\n"


def write_results(block: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    entry = f"{START}\n{block}{END}\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END) + "\n?", re.DOTALL)
    found = pattern.search(text)
    if found:
        text = text[: found.start()] + entry + text[found.end() :]
    else:
        text = text.rstrip("\n") + "\n\n" + entry
    RESULTS.write_text(text)


def main() -> int:
    given = os.environ.get("CPLAN_BENCH_DATABASE_URL", "")
    if not given.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        print("audited writes: skipped (set CPLAN_BENCH_DATABASE_URL to a PostgreSQL URL)")
        return 0
    seconds = float(os.environ.get("CPLAN_BENCH_SECONDS", "10"))
    counts = [
        int(value)
        for value in os.environ.get("CPLAN_BENCH_AUDIT_PROCESSES", "1,2,4").split(",")
        if value.strip()
    ]
    url = bench_database(given)
    checkpoints = str(Path(tempfile.mkdtemp(prefix="cplan-bench-")) / "checkpoints.jsonl")
    config = app_config(url, checkpoints)
    version = prepare(config)
    loadavg = os.getloadavg()[0]
    print("| processes | plain INSERT + commit | audit.record + commit | audited / plain |")
    print("|---:|---:|---:|---:|")
    rows = []
    for processes in counts:
        plains, auditeds = [], []
        for _ in range(ROUNDS):
            plains.append(run("plain", processes, config, seconds))
            auditeds.append(run("audited", processes, config, seconds))
        plain, audited = statistics.median(plains), statistics.median(auditeds)
        rows.append((processes, plain, audited))
        print(f"| {processes} | {plain:,.0f}/s | {audited:,.0f}/s | {audited / plain:.0%} |")
    checked, verdict = check_trail(config)
    print(f"trail after the run: {checked:,} events, {verdict}")
    write_results(section(rows, seconds, version, checked, verdict, loadavg))
    missed = [processes for processes, plain, audited in rows if audited < TARGET * plain]
    if missed:
        print(f"MISSED: audited below {TARGET:.0%} of plain with {missed} process(es)")
    return 0 if verdict.startswith("intact") else 1


if __name__ == "__main__":
    sys.exit(main())
