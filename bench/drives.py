"""Verification drives at state scale: opening a statewide drive, "verify next", state progress.

Uses the same cached data set as the HTTP benchmark (``flask cplan generate --scale S``, built
once; bench/web.py). Then, on each database:

1. opens a drive for the whole state as a control-room post, the way the page and the worker
   do: ``drives.open_drive`` records it (``opening``; the page's share, milliseconds), then the
   worker's job ``drive_opener.open_waiting`` creates its tasks (one INSERT ... SELECT of the
   tasks and one of the counters) and commits; prints the seconds of each (target: under 60 s
   for 1.1 million contacts);
2. records a few outcomes, then times the station's "verify next" page and the state's progress
   page in process (Flask test client, 30 requests each: median and p95; target for the state's
   progress: p95 under 300 ms);
3. deletes the drive's rows again, so the cached data set stays as it was (the audit events of
   the run stay: the trail is append-only).

Settings (environment) as for bench/web.py: ``CPLAN_BENCH_SCALE`` (default 0.1),
``CPLAN_BENCH_DATABASE_URL`` (adds PostgreSQL), ``CPLAN_BENCH_DATABASES``, ``CPLAN_BENCH_SQLITE``.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import web  # noqa: E402 (after the path is set when run as a script)

RUNS = 30
BENCH_NAME = "bench statewide drive"
OPEN_TARGET_S = 60
PROGRESS_TARGET_MS = 300


def _timed(client, path: str, cookie: str) -> tuple[float, float]:
    client.get(path, headers={"Cookie": cookie})  # warm caches as a worker would be
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(path, headers={"Cookie": cookie})
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
    samples.sort()
    return statistics.median(samples), samples[int(RUNS * 0.95) - 1]


def bench_database(kind: str, config) -> list[str]:
    from sqlalchemy import delete, func, select

    from cplan.extensions import db
    from cplan.formats import ist_day
    from cplan.models import (
        DriveDailyProgress,
        DriveProgress,
        Officer,
        Post,
        PostAssignment,
        Role,
        Unit,
        UnitKind,
        VerificationDrive,
        VerificationTask,
    )
    from cplan.models.base import utcnow
    from cplan.models.drives import DriveState
    from cplan.services import drives, sessions
    from cplan.services.principal import Principal
    from cplan.workers import drive_opener

    url, data_set = (
        web.sqlite_database(config) if kind == "sqlite" else web.postgresql_database(config)
    )
    settings = web.app_settings(url, secrets.token_urlsafe(48))
    # Production refuses to start without the audit checkpoints' key and file: the bench's own,
    # never the checkout's instance/.
    settings["CPLAN_AUDIT_CHECKPOINT_KEY"] = secrets.token_urlsafe(32)
    settings["CPLAN_AUDIT_CHECKPOINT_FILE"] = str(
        Path(tempfile.mkdtemp(prefix="cplan-bench-drives-")) / "checkpoints.jsonl"
    )
    app = web.in_process_app(settings)
    lines = []
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    def post_of(role, *conditions):
        return db.session.execute(
            select(Post, Officer)
            .join(PostAssignment, PostAssignment.post_id == Post.id)
            .join(Officer, Officer.id == PostAssignment.officer_id)
            .join(Unit, Unit.id == Post.unit_id)
            .where(Post.role == role, Post.active, PostAssignment.ended_at.is_(None), *conditions)
            .order_by(Post.id)
            .limit(1)
        ).first()

    def cookie_for(post, officer):
        principal = sessions.start(officer, post, user_agent="cplan bench")
        db.session.commit()
        value = serializer.dumps({"_user_id": principal.token, "_fresh": True})
        return f"{cookie_name}={value}"

    def forget(drive_ids):
        for model in (DriveDailyProgress, DriveProgress, VerificationTask):
            db.session.execute(delete(model).where(model.drive_id.in_(drive_ids)))
        db.session.execute(delete(VerificationDrive).where(VerificationDrive.id.in_(drive_ids)))
        db.session.commit()

    with app.app_context():
        dialect = db.engine.dialect.name
        # What an interrupted run left behind.
        forget(select(VerificationDrive.id).where(VerificationDrive.name == BENCH_NAME))
        state_post, state_officer = post_of(Role.CONTROL_ROOM, Unit.kind == UnitKind.STATE)
        state = state_post.unit
        control_room = Principal(officer=state_officer, post=state_post, session=None)
        # Far in the future: never overlaps a drive the data set already holds.
        opens_on = ist_day(utcnow()) + timedelta(days=3650)
        started = time.perf_counter()
        drive = drives.open_drive(
            control_room,
            scope_unit_id=state.id,
            opens_on=opens_on,
            due_on=opens_on + timedelta(days=30),
            max_age_days=30,
            name=BENCH_NAME,
        )
        db.session.commit()
        recorded_ms = (time.perf_counter() - started) * 1000
        drive_id = drive.id
        started = time.perf_counter()
        result = drive_opener.open_waiting()
        opened_s = time.perf_counter() - started
        drive = db.session.get(VerificationDrive, drive_id)
        if result.opened != 1 or drive.state != DriveState.OPEN:
            sys.exit(f"the worker did not open the drive: {drive.state} {drive.open_failure}")
        tasks = drive.task_count
        verdict = "met" if opened_s < OPEN_TARGET_S else "MISSED"
        lines.append(
            f"{dialect} ({data_set}): statewide drive recorded by the page in {recorded_ms:.0f} ms,"
            f" opened by the worker with {tasks:,} tasks in {opened_s:.1f} s"
            f" ({verdict}: target < {OPEN_TARGET_S} s)"
        )
        # The station with the most tasks, and its officer.
        busiest = db.session.execute(
            select(DriveProgress.unit_path, func.sum(DriveProgress.tasks))
            .where(DriveProgress.drive_id == drive_id)
            .group_by(DriveProgress.unit_path)
            .order_by(func.sum(DriveProgress.tasks).desc())
            .limit(1)
        ).first()
        station = db.session.scalar(select(Unit).where(Unit.path == busiest[0]))
        found = post_of(Role.STATION_OFFICER, Unit.id == station.id) or post_of(
            Role.CONSTABLE, Unit.id == station.id
        )
        paths = []
        if found is not None:
            station_post, station_officer = found
            officer = Principal(officer=station_officer, post=station_post, session=None)
            for _ in range(5):  # a few outcomes, so the counters and the series have rows
                task = drives.next_task(officer, drive, station)
                drives.record_outcome(officer, task.id, task.version, "confirmed")
            db.session.commit()
            paths.append(
                (f"verify next, {station.name_en}", f"/drives/{drive_id}/next", station_post)
            )
        paths.append(("state progress", f"/drives/{drive_id}", state_post))
        signed_in = []
        for label, path, post in paths:
            officer = db.session.scalar(
                select(Officer)
                .join(PostAssignment, PostAssignment.officer_id == Officer.id)
                .where(PostAssignment.post_id == post.id, PostAssignment.ended_at.is_(None))
            )
            signed_in.append((label, path, cookie_for(post, officer)))
        db.session.remove()

    client = app.test_client(use_cookies=False)
    try:
        for label, path, cookie in signed_in:
            median, p95 = _timed(client, path, cookie)
            target = ""
            if label == "state progress":
                verdict = "met" if p95 < PROGRESS_TARGET_MS else "MISSED"
                target = f" ({verdict}: target p95 < {PROGRESS_TARGET_MS} ms)"
            lines.append(f"  {label:<40} median {median:7.1f} ms   p95 {p95:7.1f} ms{target}")
    finally:
        with app.app_context():
            forget([drive_id])
            db.engine.dispose()
    return lines


def _load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    config = web.settings()
    for kind in config["kinds"]:
        print(f"{kind}: {_load()} before")
        for line in bench_database(kind, config):
            print(line)
        print(f"{kind}: {_load()} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
