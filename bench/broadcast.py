"""Broadcasts at scale: enqueueing 100,000 recipients, worker throughput, delivery reports.

On a scratch database (a temporary SQLite file, or ``CPLAN_BENCH_DATABASE_URL``, which is
wiped): one station with 100,000 active contacts; a broadcast to all of them is composed
(audience count) and approved, which writes its 100,000 outbox rows with one INSERT ... SELECT
in the approval's transaction. Then ``BENCH_SENDS`` (5,000) of them are sent through the fake
gateway (tests/fake_gateway.py, a process of its own on localhost): a share by one worker, on
PostgreSQL a share by two worker processes at once, and the rest by one worker through the
Exotel adapter; then their delivery reports are posted, signed, in batches of 500. Usage::

    python -m bench.broadcast
    CPLAN_BENCH_DATABASE_URL=postgresql://root@/cplan_bench?host=/var/run/postgresql \\
        python -m bench.broadcast
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import bindparam, func, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cplan import create_app  # noqa: E402
from cplan.extensions import db  # noqa: E402
from cplan.models import (  # noqa: E402
    Officer,
    Place,
    PlaceKind,
    Post,
    PostAssignment,
    Role,
    UnitKind,
    contact_counts,  # noqa: E402
)
from cplan.models.base import UTCDateTime  # noqa: E402
from cplan.models.broadcasts import BroadcastMessage, DeliveryState, reference_of  # noqa: E402
from cplan.services import broadcasts, dlt, geo, outbox  # noqa: E402
from cplan.services.principal import Principal  # noqa: E402

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", 100_000))
SENDS = int(os.environ.get("BENCH_SENDS", 5_000))
SECRET = "bench-" + "x" * 40
DLR_SECRET = "bench-dlr-secret"
DAY = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)  # 11:00 IST: outside quiet hours


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def officer(role, unit, n):
    post = Post(title_en=f"{role.value} {n}", role=role, unit=unit, cug_number=f"+91940000000{n}")
    person = Officer(pno=f"PNO{n:06d}", name=f"Officer {n}", rank="Inspector", unit=unit)
    db.session.add_all([post, person, PostAssignment(officer=person, post=post)])
    db.session.flush()
    return Principal(officer=person, post=post, session=None)


def build():
    from cplan.devdata.demo_messages import ensure_demo_registry

    state = geo.create_unit(UnitKind.STATE, "Uttar Pradesh", code="9")
    zone = geo.create_unit(UnitKind.ZONE, "Zone", state, code="Z")
    police_range = geo.create_unit(UnitKind.RANGE, "Range", zone, code="R")
    district = geo.create_unit(UnitKind.DISTRICT, "Baghpat", police_range, code="124")
    circle = geo.create_unit(UnitKind.CIRCLE, "Baraut circle", district, code="124-C")
    station = geo.create_unit(UnitKind.STATION, "Baraut", circle, code="124-S")
    places = []
    for n in range(100):
        place = Place(
            kind=PlaceKind.VILLAGE,
            name_en=f"Village {n}",
            natural_key=f"lgd:{900000 + n}",
            lgd_code=str(900000 + n),
            district_id=district.id,
            district=district,
        )
        places.append(geo.add_place(place, station))
    ensure_demo_registry()
    # One INSERT ... SELECT over a counter (a row at a time from Python took minutes on
    # PostgreSQL): contact n lives in village n % 100.
    first_place = min(place.id for place in places)
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql:
        # The count triggers would update a place's row a thousand times: skip them for the
        # load, and count once afterwards.
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text("SET LOCAL statement_timeout = 0"))
    db.session.execute(
        text(
            """
            WITH RECURSIVE counter(n) AS (
                SELECT 0 UNION ALL SELECT n + 1 FROM counter WHERE n + 1 < :total
            )
            INSERT INTO contacts (
                place_id, unit_path, name, name_script, name_other, name_other_generated,
                search_key, mobile, whatsapp, category, gender, address, notes, confidential,
                status, version, consent_language, enrolled_at, decision_reason, decision_note,
                unreachable_count, updated_at, opt_out_channel
            )
            SELECT :first_place + (n % 100), :path, 'Citizen ' || n, 'latn', '', :yes, '',
                   '+9196' || (10000000 + n), :no, 'teacher', 'not_stated', '',
                   '', :no, 'active', 1, 'hi', :now, '', '', 0, :now, ''
            FROM counter
            """
        ).bindparams(bindparam("now", type_=UTCDateTime())),
        {
            "total": RECIPIENTS,
            "first_place": first_place,
            "path": station.path,
            "yes": True,
            "no": False,
            "now": DAY,
        },
    )
    if postgresql:
        db.session.execute(text("SET LOCAL session_replication_role = origin"))
        contact_counts.recount(db.session.connection())
    composer = officer(Role.STATION_OFFICER, station, 1)
    approver = officer(Role.SP_OFFICE, district, 2)
    db.session.commit()
    return station, composer, approver


def send_with_workers(
    app, url, processes: int, gateway_url: str, backend: str = "http"
) -> tuple[float, float]:
    """Send what is queued with ``processes`` worker processes through ``backend`` (the fake
    gateway's JSON route, or its Exotel one); returns (wall seconds, seconds of sending)."""
    env = {
        **os.environ,
        "CPLAN_DATABASE_URL": url,
        "CPLAN_SECRET_KEY": SECRET,
        "CPLAN_ENV_NAME": "testing",
        "CPLAN_SMS_BROADCAST_BACKEND": "http",
        "CPLAN_SMS_BROADCAST_URL": f"{gateway_url}/send",
        "CPLAN_SMS_SENDER_ID": "UPPCPL",
        "CPLAN_SMS_RATE_PER_SECOND": "0",
        "CPLAN_SMS_WORKER_BATCH_SIZE": "100",
        "CPLAN_LOG_LEVEL": "WARNING",
    }
    if backend == "exotel":
        env.update(
            CPLAN_SMS_BROADCAST_BACKEND="exotel",
            CPLAN_SMS_BROADCAST_URL=gateway_url,
            CPLAN_SMS_BROADCAST_API_KEY="exo-key",
            CPLAN_SMS_EXOTEL_API_TOKEN="exo-token",
            CPLAN_SMS_EXOTEL_ACCOUNT_SID="bench",
            CPLAN_SMS_CALLBACK_BASE_URL="https://cplan.invalid",
            CPLAN_SMS_DLR_SECRET=DLR_SECRET,
        )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "cplan", "sms-worker"]
    started = time.perf_counter()
    workers = [
        subprocess.Popen(
            [*command, "--until-idle", "--poll", "0.2", "--name", f"bench-{n}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for n in range(processes)
    ]
    for worker in workers:
        worker.wait()
    wall = time.perf_counter() - started
    # Sending time from the messages' own stamps (first claim to last send recorded): the
    # processes' start-up (seconds on a loaded machine) is left out.
    first, last = db.session.execute(
        select(func.min(BroadcastMessage.claimed_at), func.max(BroadcastMessage.sent_at)).where(
            BroadcastMessage.claimed_by.like("bench-%"),
            BroadcastMessage.sent_at >= datetime.fromtimestamp(time.time() - wall, UTC),
        )
    ).one()
    db.session.rollback()
    return wall, (last - first).total_seconds()


def queue_next(count: int) -> int:
    """Leave ``count`` messages queued (the others parked as expired); returns how many."""
    ids = list(
        db.session.scalars(
            select(BroadcastMessage.id)
            .where(BroadcastMessage.state == DeliveryState.QUEUED)
            .order_by(BroadcastMessage.id)
            .limit(count)
        )
    )
    db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.state == DeliveryState.QUEUED, BroadcastMessage.id.not_in(ids))
        .values(state=DeliveryState.EXPIRED)
    )
    db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id.in_(ids))
        .values(next_attempt_at=datetime.now(UTC), created_at=datetime.now(UTC))
    )
    db.session.commit()
    return len(ids)


def park_expired_back(count: int) -> None:
    ids = list(
        db.session.scalars(
            select(BroadcastMessage.id)
            .where(BroadcastMessage.state == DeliveryState.EXPIRED)
            .order_by(BroadcastMessage.id)
            .limit(count)
        )
    )
    db.session.execute(
        update(BroadcastMessage)
        .where(BroadcastMessage.id.in_(ids))
        .values(
            state=DeliveryState.QUEUED,
            next_attempt_at=datetime.now(UTC),
            created_at=datetime.now(UTC),
        )
    )
    db.session.commit()


def main():
    print(f"load average at the start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    url = os.environ.get("CPLAN_BENCH_DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.sqlite"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET,
            "ENV_NAME": "testing",
            "SMS_DLR_SECRET": DLR_SECRET,
            "WTF_CSRF_ENABLED": False,
        }
    )
    port = free_port()
    gateway = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_gateway", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    gateway_url = f"http://127.0.0.1:{port}"
    try:
        with app.app_context():
            dialect = db.engine.dialect.name
            if dialect == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("DROP SCHEMA public CASCADE"))
                    connection.execute(text("CREATE SCHEMA public"))
            db.create_all()
            started = time.perf_counter()
            station, composer, approver = build()
            print(
                f"{dialect}: {RECIPIENTS:,} contacts built in {time.perf_counter() - started:.1f} s"
            )
            if dialect == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            template = next(t for t in dlt.broadcast_templates() if t.name == "rumour_alert")

            started = time.perf_counter()
            draft = broadcasts.prepare(
                composer,
                template_id=template.id,
                values=["the Baraut fair", "112"],
                station_id=station.id,
            )
            broadcast = broadcasts.submit(composer, draft, now=DAY)
            db.session.commit()
            composed = time.perf_counter() - started
            started = time.perf_counter()
            # Urgent (the SP office): the worker processes run on the real clock, at any hour.
            broadcasts.decide(
                approver, broadcast.id, broadcast.version, "approve", urgent=True, now=DAY
            )
            db.session.commit()
            enqueued = time.perf_counter() - started
            queued = db.session.scalar(
                select(func.count()).where(BroadcastMessage.broadcast_id == broadcast.id)
            )
            print(
                f"compose + preview count + submit: {composed:.2f} s; approve and enqueue "
                f"{queued:,} messages (one INSERT ... SELECT): {enqueued:.2f} s "
                f"({queued / enqueued:,.0f} rows/s)"
            )

            half = SENDS // 2
            third = SENDS // 3
            sent = queue_next(third if dialect == "postgresql" else half)
            wall, seconds = send_with_workers(app, url, 1, gateway_url)
            print(
                f"1 worker process: {sent:,} messages in {seconds:.1f} s of sending = "
                f"{sent / seconds:,.0f} messages/s ({wall:.1f} s with start-up; fake gateway, "
                "no rate limit, batches of 100, 8 requests in flight)"
            )
            if dialect == "postgresql":
                park_expired_back(third)
                wall, seconds = send_with_workers(app, url, 2, gateway_url)
                print(
                    f"2 worker processes: {third:,} messages in {seconds:.1f} s of sending = "
                    f"{third / seconds:,.0f} messages/s, {third / seconds / 2:,.0f} per worker "
                    f"({wall:.1f} s with start-up)"
                )
            rest = SENDS - sent - (third if dialect == "postgresql" else 0)
            park_expired_back(rest)
            wall, seconds = send_with_workers(app, url, 1, gateway_url, backend="exotel")
            print(
                f"1 worker process through the Exotel adapter: {rest:,} messages in "
                f"{seconds:.1f} s of sending = {rest / seconds:,.0f} messages/s "
                f"({wall:.1f} s with start-up; form requests, basic authentication)"
            )

            from tests.fake_gateway import signed_report

            ids = list(
                db.session.scalars(
                    select(BroadcastMessage.id).where(BroadcastMessage.state == DeliveryState.SENT)
                )
            )
            db.session.rollback()
            client = app.test_client()
            started = time.perf_counter()
            for start in range(0, len(ids), 500):
                reports = [
                    {"reference": reference_of(message_id), "status": "delivered"}
                    for message_id in ids[start : start + 500]
                ]
                body, headers = signed_report(DLR_SECRET, reports)
                answer = client.post(
                    "/broadcasts/delivery-reports/http", data=body, headers=headers
                )
                assert answer.status_code == 200, answer.status_code
            seconds = time.perf_counter() - started
            delivered = outbox.counts(broadcast.id)[DeliveryState.DELIVERED]
            print(
                f"delivery reports: {delivered:,} applied in {seconds:.1f} s = "
                f"{delivered / seconds:,.0f} reports/s (signed batches of 500, test client)"
            )
            db.session.rollback()
    finally:
        gateway.terminate()
        gateway.wait()
        if tmp:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
