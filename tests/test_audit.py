"""The audit trail: hash chain, append-only triggers, verification, safety rules, the page.

Runs on SQLite by default and on PostgreSQL when ``CPLAN_TEST_DATABASE_URL`` points at it;
the trigger and concurrency tests matter on both.
"""

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from flask_login import login_user
from sqlalchemy import exc, func, select, text

from cplan.models import AuditCheckpoint, AuditEvent
from cplan.models.audit import GENESIS_HASH, drop_triggers, event_hash, install_triggers
from cplan.services import audit, audit_sealer, sessions
from cplan.services.phone import log_safe
from cplan.web.security import load_principal

# ---- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture
def baghpat(make_district, make_station):
    district = make_district("Baghpat", code="124")
    return {"district": district, "baraut": make_station(district, "Baraut")}


@pytest.fixture
def meerut(make_district, make_station):
    district = make_district("Meerut", code="135")
    return {"district": district, "kithaur": make_station(district, "Kithaur")}


def record_some(db, count, **fields):
    """Record ``count`` events, commit and seal them; returns their seqs."""
    events = [audit.record(f"test.event_{n}", detail={"n": n}, **fields) for n in range(count)]
    seal(db)
    seqs = [event.seq for event in events]
    db.session.commit()  # reading them began a transaction: SQLite's write lock goes with it
    return seqs


def seal(db):
    """Commit, run the sealer, and read the sealed events afresh."""
    db.session.commit()
    result = audit_sealer.seal()
    db.session.expire_all()
    return result


def all_events(db):
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def raw_sql(db, statement, **params):
    """Run SQL on a connection of its own, as someone editing the database by hand would."""
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.fixture
def triggers_dropped(db):
    """Let a test tamper with events the way someone with the database owner's rights could."""
    db.session.commit()
    with db.engine.begin() as connection:
        drop_triggers(connection)
    yield
    db.session.rollback()
    with db.engine.begin() as connection:
        install_triggers(connection)


# ---- the chain --------------------------------------------------------------------------------


def test_an_event_is_recorded_unsealed_and_the_sealer_chains_it(db):
    first = audit.record("auth.sign_in")
    second = audit.record("roster.viewed", target_type="contacts", target_id=7)
    assert (first.seq, first.hash, second.seq) == (None, None, None)
    assert seal(db).sealed == 2
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.hash == second.compute_hash() != first.hash


def test_the_hash_covers_every_recorded_field(db, baghpat):
    event = audit.record(
        "geo.place_moved",
        unit=baghpat["baraut"],
        target_type="places",
        target_id=3,
        detail={"to": "Baraut"},
        ip_address="10.0.0.1",
        outcome="denied",
    )
    seal(db)
    fields = {
        name: getattr(event, name)
        for name in (
            "seq",
            "occurred_at",
            "action",
            "outcome",
            "officer_id",
            "officer_pno",
            "post_id",
            "post_title",
            "unit_path",
            "target_type",
            "target_id",
            "detail",
            "ip_address",
            "prev_hash",
        )
    }
    for name, changed in [
        ("action", "geo.place_created"),
        ("unit_path", "/1/"),
        ("target_id", 4),
        ("detail", '{"to":"Binauli"}'),
        ("ip_address", "10.0.0.2"),
        ("outcome", "success"),
        ("post_title", "SP Baghpat"),
        ("prev_hash", "1" * 64),
    ]:
        assert event_hash({**fields, name: changed}) != event.hash, name


def test_verify_passes_on_an_intact_chain(db, baghpat):
    audit.record("admin.post_created", unit=baghpat["district"], detail={"title": "एसएचओ बड़ौत"})
    audit.record("auth.otp_failed", outcome="failure", detail={"cug": log_safe("+919876543210")})
    audit.record(
        "geo.place_moved",
        target=baghpat["baraut"],
        detail={"when": datetime(2025, 1, 2, tzinfo=UTC)},
    )
    seal(db)
    result = audit.verify_chain()
    assert result.ok and result.checked == 3 and result.first_broken_seq is None
    assert result.last_hash == all_events(db)[-1].hash


def test_verify_passes_on_an_empty_trail(db):
    assert audit.verify_chain() == audit.VerifyResult(ok=True, checked=0)


def test_verify_reads_in_batches_across_batch_boundaries(db):
    record_some(db, 7)
    result = audit.verify_chain(batch_size=3)
    assert result.ok and result.checked == 7


def test_nothing_of_a_rolled_back_transaction_stays_in_the_chain(db):
    record_some(db, 2)
    audit.record("roster.viewed")
    db.session.rollback()
    event = audit.record("roster.viewed")
    seal(db)
    assert event.seq == 3
    assert audit.verify_chain().ok


# ---- append-only at the database ----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'auth.nothing_happened' WHERE seq = 1",
        "UPDATE audit_events SET hash = prev_hash",
        "DELETE FROM audit_events WHERE seq = 1",
        "DELETE FROM audit_events",
    ],
)
def test_editing_an_event_through_raw_sql_is_refused_by_the_database(db, statement):
    record_some(db, 2)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, statement)
    assert [event.action for event in all_events(db)] == ["test.event_0", "test.event_1"]
    db.session.commit()
    assert audit.verify_chain().ok


def test_the_orm_cannot_change_an_event_either(db):
    event = audit.record("auth.sign_in")
    db.session.commit()
    event.action = "auth.sign_out"
    with pytest.raises(exc.DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_installing_the_triggers_twice_is_harmless(db):
    db.session.commit()
    with db.engine.begin() as connection:
        install_triggers(connection)
        install_triggers(connection)
    record_some(db, 1)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, "DELETE FROM audit_events")


def test_an_unsealed_event_cannot_be_changed_and_a_sealed_one_cannot_be_sealed_again(db):
    audit.record("auth.sign_in")
    db.session.commit()
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, "UPDATE audit_events SET action = 'auth.sign_out'")
    with pytest.raises(exc.DBAPIError, match="append-only"):  # sealing must not change it
        raw_sql(db, "UPDATE audit_events SET seq = 1, prev_hash = 'x', hash = 'y', action = 'a.b'")
    seal(db)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, "UPDATE audit_events SET seq = 7, prev_hash = 'x', hash = 'y'")
    assert audit.verify_chain().ok


def test_checkpoints_refuse_changes_too(db):
    record_some(db, 2)
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, "UPDATE audit_checkpoints SET head_hash = 'x'")
    with pytest.raises(exc.DBAPIError, match="append-only"):
        raw_sql(db, "DELETE FROM audit_checkpoints")


# ---- sealing ------------------------------------------------------------------------------------


def test_each_batch_leaves_a_checkpoint_of_its_range_and_head(db):
    record_some(db, 3)
    record_some(db, 2)
    checkpoints = db.session.execute(
        select(
            AuditCheckpoint.first_seq, AuditCheckpoint.last_seq, AuditCheckpoint.head_hash
        ).order_by(AuditCheckpoint.last_seq)
    ).all()
    events = all_events(db)
    assert checkpoints == [(1, 3, events[2].hash), (4, 5, events[4].hash)]


def test_the_sealer_seals_in_batches_until_nothing_is_left(db):
    for n in range(7):
        audit.record("test.event", detail={"n": n})
    db.session.commit()
    assert audit_sealer.seal(batch_size=3).sealed == 7
    assert audit_sealer.seal().sealed == 0
    assert db.session.scalar(select(func.count(AuditCheckpoint.id))) == 3
    assert audit.verify_chain().ok


def test_an_event_is_not_sealed_before_its_transaction_commits(db):
    audit.record("test.uncommitted")
    db.session.flush()
    if not on_postgresql(db):
        pytest.skip("SQLite's one writer holds its lock until it commits: the sealer waits")
    assert audit_sealer.seal().sealed == 0
    db.session.commit()
    assert audit_sealer.seal().sealed == 1


def test_a_savepoint_released_inside_a_transaction_is_not_its_commit(app, db, monkeypatch):
    """SQLAlchemy reports a released savepoint as a commit: sealing then (on SQLite a second
    connection waiting on this transaction's own lock, the demo load hung) or telling the
    request log of events not yet committed would be wrong. Both wait for the real commit."""
    told: list = []
    monkeypatch.setattr(audit, "_COMMIT_LISTENERS", [*audit._COMMIT_LISTENERS, told.extend])
    app.config["AUDIT_SEAL_AFTER_COMMIT"] = 0
    monkeypatch.setattr(audit_sealer, "_last_attempt", 0.0)
    monkeypatch.setattr(audit, "utcnow", lambda: datetime(2025, 1, 1, tzinfo=UTC))
    outer = audit.record("test.outer")
    with db.session.begin_nested():
        inner = audit.record("test.inner")
    assert told == [] and outer.seq is None and inner.seq is None
    db.session.commit()
    assert [action for _, action, _ in told] == ["test.outer", "test.inner"]
    assert outer.seq is not None and inner.seq is not None and audit.verify_chain().ok
    app.config["AUDIT_SEAL_AFTER_COMMIT"] = None


def test_a_writer_seals_events_the_sealer_process_left_waiting(app, db, monkeypatch):
    app.config["AUDIT_SEAL_AFTER_COMMIT"] = 0
    monkeypatch.setattr(audit, "utcnow", lambda: datetime(2025, 1, 1, tzinfo=UTC))
    waiting = audit.record("roster.viewed")
    db.session.commit()
    assert waiting.seq == 1 and audit.verify_chain().ok
    monkeypatch.undo()
    monkeypatch.setattr(audit_sealer, "_last_attempt", 0.0)  # not the once-a-second limit
    app.config["AUDIT_SEAL_AFTER_COMMIT"] = 0.5
    fresh = audit.record("roster.viewed")  # the sealer process has a second for it
    db.session.commit()
    assert fresh.seq is None
    app.config["AUDIT_SEAL_AFTER_COMMIT"] = None
    later = audit.record("roster.viewed")
    db.session.commit()
    assert later.seq is None


def test_verify_accepts_recent_unsealed_events_and_counts_them(db):
    record_some(db, 2)
    audit.record("roster.viewed")
    db.session.commit()
    result = audit.verify_chain()
    assert (result.ok, result.checked, result.unsealed) == (True, 2, 1)


def test_verify_fails_on_an_event_left_unsealed_past_the_deadline(db, monkeypatch):
    record_some(db, 2)
    monkeypatch.setattr(audit, "utcnow", lambda: datetime(2025, 1, 1, tzinfo=UTC))
    late = audit.record("roster.viewed")
    db.session.commit()
    result = audit.verify_chain()
    assert (result.ok, result.event_id, result.checked) == (False, late.id, 2)
    assert result.reason.startswith("not sealed 120 s after it was recorded")


def test_sealed_events_taken_out_of_the_chain_are_found(db, triggers_dropped):
    record_some(db, 3)
    raw_sql(db, "UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 3")
    assert not audit.verify_chain(deadline_seconds=0).ok


def test_cli_sealer_once_seals_what_is_committed(db, runner):
    audit.record("roster.viewed")
    audit.record("roster.viewed")
    db.session.commit()
    result = runner.invoke(args=["cplan", "audit-sealer", "--once"])
    assert result.exit_code == 0 and "sealed 2 events" in result.stdout
    assert audit.verify_chain().unsealed == 0


def on_postgresql(db):
    return db.engine.dialect.name == "postgresql"


def test_a_sealer_finding_the_lock_taken_gives_up_at_once(db):
    if not on_postgresql(db):
        pytest.skip("SQLite has one writer at a time: its sealer waits like every writer")
    record_some(db, 1)
    audit.record("roster.viewed")
    db.session.commit()
    with db.engine.begin() as holder:
        holder.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit_sealer.CHAIN_LOCK_KEY}
        )
        assert audit_sealer.seal(wait=False).busy
    assert audit_sealer.seal(wait=False).sealed == 1


def insert_event(connection, action):
    """Insert an unsealed event on ``connection`` as ``audit.record`` would; returns its id."""
    return connection.execute(
        AuditEvent.__table__.insert()
        .values(occurred_at=datetime.now(UTC), action=action, outcome="success", detail="{}")
        .returning(AuditEvent.__table__.c.id)
    ).scalar_one()


def test_events_committed_out_of_order_are_sealed_once_each_in_commit_order(db):
    if not on_postgresql(db):
        pytest.skip("SQLite lets one transaction write at a time: commits cannot interleave")
    db.session.commit()
    slow = db.engine.connect()
    slow_transaction = slow.begin()
    early_id = insert_event(slow, "test.slow")  # the lower id, committed last
    with db.engine.begin() as fast:
        late_id = insert_event(fast, "test.fast")
    assert early_id < late_id
    assert audit_sealer.seal().sealed == 1
    slow_transaction.commit()
    slow.close()
    assert audit_sealer.seal().sealed == 1
    by_id = dict(db.session.execute(select(AuditEvent.id, AuditEvent.seq)).all())
    assert by_id == {late_id: 1, early_id: 2}
    assert audit.verify_chain().ok


def test_interleaved_writers_and_sealers_lose_nothing_and_chain_nothing_twice(app, db):
    if not on_postgresql(db):
        pytest.skip("SQLite lets one transaction write at a time: commits cannot interleave")
    import random

    db.session.commit()
    engine = db.engine
    writers, per_writer = 6, 15
    done = threading.Event()
    failures, ids = [], []

    def write(worker):
        rng = random.Random(worker)
        try:
            with engine.connect() as connection:
                for n in range(per_writer):
                    with connection.begin():
                        ids.append(insert_event(connection, f"test.w{worker}_{n}"))
                        time.sleep(rng.random() / 50)  # commit a little later, in any order
        except Exception as error:
            failures.append(error)

    def keep_sealing():
        try:
            with app.app_context():
                while not done.is_set():
                    audit_sealer.seal(wait=False, batch_size=7)
        except Exception as error:
            failures.append(error)

    sealers = [threading.Thread(target=keep_sealing) for _ in range(2)]
    workers = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in sealers + workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=60)
    done.set()
    for thread in sealers:
        thread.join(timeout=60)
    assert not failures
    audit_sealer.seal()
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.seq)).all()
    assert sorted(row.id for row in rows) == sorted(ids)
    assert sorted(row.seq for row in rows) == list(range(1, writers * per_writer + 1))
    result = audit.verify_chain()
    assert result.ok and result.checked == writers * per_writer


# ---- tampering is found -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "'auth.nothing_happened'"),
        ("outcome", "'success'"),
        ("officer_pno", "'PNO999999'"),
        ("post_title", "'SP Meerut'"),
        ("unit_path", "'/1/'"),
        ("target_id", "target_id + 1"),
        ("detail", """'{"n": 99}'"""),
        ("ip_address", "'127.0.0.1'"),
    ],
)
def test_a_tampered_field_makes_verify_name_exactly_that_event(db, triggers_dropped, column, value):
    record_some(db, 5, target_type="contacts", target_id=10, outcome="denied")
    raw_sql(db, f"UPDATE audit_events SET {column} = {value} WHERE seq = 3")
    result = audit.verify_chain(batch_size=2)
    assert not result.ok
    assert (result.first_broken_seq, result.checked) == (3, 2)
    assert result.reason == "contents do not match the stored hash"
    assert result.action == ("auth.nothing_happened" if column == "action" else "test.event_2")


def test_a_tampered_time_makes_verify_name_that_event(db, triggers_dropped):
    record_some(db, 3)
    event = all_events(db)[1]
    db.session.commit()
    raw_sql(db, "UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00' WHERE seq = 2")
    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq, result.event_id) == (False, 2, event.id)


def test_rewriting_an_event_with_a_fresh_hash_breaks_the_link_to_the_next(db, triggers_dropped):
    record_some(db, 4)
    event = all_events(db)[1]
    forged = {
        name: getattr(event, name)
        for name in (
            "seq",
            "occurred_at",
            "outcome",
            "officer_id",
            "officer_pno",
            "post_id",
            "post_title",
            "unit_path",
            "target_type",
            "target_id",
            "detail",
            "ip_address",
            "prev_hash",
        )
    }
    forged["action"] = "auth.nothing_happened"
    db.session.commit()
    raw_sql(
        db,
        "UPDATE audit_events SET action = :action, hash = :hash WHERE seq = 2",
        action=forged["action"],
        hash=event_hash(forged),
    )
    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert result.reason == "prev_hash does not match the previous event's hash"


def test_a_removed_event_is_found_as_a_gap(db, triggers_dropped):
    record_some(db, 4)
    raw_sql(db, "DELETE FROM audit_events WHERE seq = 2")
    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert result.reason == "sequence broken: expected seq 2, found 3"


# ---- signed checkpoints: what someone rewriting the database cannot forge ------------------------


def checkpoint_lines(app):
    path = audit_sealer.checkpoint_path()
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_each_sealed_batch_signs_its_head_into_the_checkpoint_file(app, db):
    record_some(db, 3)
    record_some(db, 2)
    lines = checkpoint_lines(app)
    head = all_events(db)[-1]
    assert [(line["last_seq"], line["head_hash"]) for line in lines][-1] == (5, head.hash)
    assert all(len(line["mac"]) == 64 for line in lines)
    result = audit.verify_chain()
    assert result.ok and result.checkpoint.last_seq == 5


def rewrite_from(db, seq, **changes):
    """Change event ``seq`` and recompute every hash after it, as an attacker with the
    database owner's rights could (the triggers dropped)."""
    prev_hash = GENESIS_HASH
    with db.engine.begin() as connection:
        rows = connection.execute(
            select(AuditEvent.__table__).order_by(AuditEvent.__table__.c.seq)
        ).all()
        for row in rows:
            fields = dict(row._mapping)
            if fields["seq"] == seq:
                fields.update(changes)
            if fields["seq"] >= seq:
                fields["prev_hash"] = prev_hash
                fields["hash"] = event_hash(fields)
                connection.execute(
                    AuditEvent.__table__.update()
                    .where(AuditEvent.__table__.c.id == fields["id"])
                    .values(**{k: v for k, v in fields.items() if k != "id"})
                )
            prev_hash = fields["hash"]


def test_a_chain_rewritten_with_recomputed_hashes_is_found(db, triggers_dropped):
    record_some(db, 4)
    rewrite_from(db, 2, action="auth.nothing_happened")
    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq) == (False, 4)
    assert "differs from the checkpoint signed at" in result.reason


def test_the_newest_events_deleted_are_found(db, triggers_dropped):
    record_some(db, 4)
    raw_sql(db, "DELETE FROM audit_events WHERE seq >= 3")
    result = audit.verify_chain()
    assert (result.ok, result.first_broken_seq, result.checked) == (False, 3, 2)
    assert "covers 4 events, the chain holds 2" in result.reason


@pytest.mark.parametrize("how", ["DELETE FROM audit_events", "TRUNCATE audit_events"])
def test_an_emptied_trail_is_found(db, triggers_dropped, how):
    if how.startswith("TRUNCATE") and db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    record_some(db, 3)
    raw_sql(db, how)
    result = audit.verify_chain()
    assert (result.ok, result.checked) == (False, 0)
    assert "covers 3 events, the chain holds 0" in result.reason


def test_truncate_is_refused_by_the_database(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    record_some(db, 2)
    for table in ("audit_events", "audit_checkpoints"):
        with pytest.raises(exc.DBAPIError, match="append-only"):
            raw_sql(db, f"TRUNCATE {table}")
    assert audit.verify_chain().checked == 2


def test_a_forged_checkpoint_line_is_found(app, db):
    record_some(db, 2)
    line = checkpoint_lines(app)[-1]
    forged = {**line, "last_seq": 1, "head_hash": all_events(db)[0].hash}
    with open(audit_sealer.checkpoint_path(), "a") as file:
        file.write(json.dumps(forged) + "\n")
    result = audit.verify_chain()
    assert not result.ok and "not signed by the checkpoint key" in result.reason


def test_checkpoints_signed_with_another_key_are_not_trusted(app, db, triggers_dropped):
    record_some(db, 3)
    app.config["AUDIT_CHECKPOINT_KEY"] = "another-key-after-a-rotation-0123456789abcdef"
    raw_sql(db, "DELETE FROM audit_events WHERE seq = 3")
    result = audit.verify_chain()
    assert result.ok and result.checkpoint is None and result.checked == 2


def test_the_sealer_process_signs_the_head_every_minute_when_idle(app, db, monkeypatch):
    record_some(db, 2)
    before = len(checkpoint_lines(app))
    rounds = iter([False, False, True])
    monkeypatch.setattr(audit_sealer, "HEARTBEAT_SECONDS", 0.0)
    audit_sealer.run_sealer(interval=0.0, stop=lambda: next(rounds))
    assert len(checkpoint_lines(app)) == before + 2
    assert checkpoint_lines(app)[-1]["last_seq"] == 2


# ---- the command line
# -----------------------------------------------------------------------------


def test_cli_verify_reports_an_intact_chain_and_exits_0(db, runner):
    record_some(db, 3)
    result = runner.invoke(args=["cplan", "audit", "verify"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "audit chain intact: 3 events"


def test_cli_verify_names_the_broken_event_and_exits_1(db, runner, triggers_dropped):
    record_some(db, 3)
    event = all_events(db)[1]
    event_id = event.id
    db.session.commit()
    raw_sql(db, "UPDATE audit_events SET detail = '{}' WHERE seq = 2")
    result = runner.invoke(args=["cplan", "audit", "verify", "--batch-size", "2"])
    assert result.exit_code == 1
    assert f"seq 2 (id {event_id}, " in result.stderr
    assert "test.event_1" in result.stderr
    assert "contents do not match the stored hash" in result.stderr
    assert "intact: " not in result.stdout


# ---- what may not be recorded
# -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "otp",
        "code",
        "password",
        "new_password",
        "token",
        "session_token",
        "secret",
        "totp_secret",
        "setup_code",
        "verification_code",
        "pin",
        "otpCode",
        "Password",
    ],
)
def test_forbidden_detail_keys_are_refused(db, key):
    with pytest.raises(ValueError, match="secret"):
        audit.record("auth.otp_failed", detail={key: "123456"})
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_a_secret_nested_deeper_in_the_detail_is_refused(db):
    with pytest.raises(ValueError, match="secret"):
        audit.record("auth.sign_in", detail={"steps": [{"name": "handset", "otp": "123456"}]})


@pytest.mark.parametrize(
    "key", ["lgd_code", "station_code", "sessions_ended", "pno", "cug", "mapping"]
)
def test_official_codes_and_ordinary_keys_are_allowed(db, key):
    assert (
        audit.record("admin.officer_created", detail={key: "119300"}).detail
        == f'{{"{key}":"119300"}}'
    )


@pytest.mark.parametrize(
    "value",
    [
        "9876543210",
        "+919876543210",
        "+91 98765 43210",
        "098765-43210",
        "919876543210",
        "called 9876543210 at noon",
        "९८७६५४३२१०",
        9876543210,
        ["x", "6000000000"],
        {"contact": {"number": "7012345678"}},
    ],
)
def test_full_mobile_numbers_are_refused(db, value):
    with pytest.raises(ValueError, match="mobile"):
        audit.record("roster.viewed", detail={"value": value})
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


@pytest.mark.parametrize(
    "value",
    [
        log_safe("+919876543210"),
        "+91******3210",
        "119300",
        "5876543210",
        "98765432",
        123456789,
        "2025-01-02T10:00:00+05:30",
    ],
)
def test_masked_numbers_and_other_numbers_are_allowed(db, value):
    audit.record("roster.viewed", detail={"value": value})


def test_redact_mobiles_masks_a_number_typed_into_a_field():
    assert audit.redact_mobiles("98765 43210") == "+91******3210"
    assert audit.redact_mobiles("PNO152345") == "PNO152345"
    audit.canonical_detail({"pno": audit.redact_mobiles("+91-98765-43210")})


@pytest.mark.parametrize(
    "action", ["signin", "Auth.sign_in", "auth.", "auth sign in", "a" * 62 + ".b_c"]
)
def test_actions_must_be_dotted_lowercase_verbs(db, action):
    with pytest.raises(ValueError, match="action"):
        audit.record(action)


# ---- who, where and from where ------------------------------------------------------------------


def test_the_event_is_filed_under_the_target_then_the_post(db, baghpat, make_place, make_post):
    place = make_place("BIJROL", station=baghpat["baraut"], lgd_code="119300")
    post = make_post("sp_office", baghpat["district"])
    on_place = audit.record("geo.place_moved", target=place, post=post)
    on_unit = audit.record("geo.unit_renamed", target=baghpat["baraut"], post=post)
    on_nothing = audit.record("admin.report_run", post=post)
    assert (on_place.target_type, on_place.target_id, on_place.unit_path) == (
        "places",
        place.id,
        place.unit_path,
    )
    assert on_unit.unit_path == baghpat["baraut"].path
    assert on_nothing.unit_path == baghpat["district"].path
    assert on_nothing.post_title == post.title_en and on_nothing.post_id == post.id


def test_the_actor_and_address_come_from_the_principal_of_the_request(
    app, db, baghpat, make_officer
):
    officer = make_officer(role="station_officer", unit=baghpat["baraut"])
    token = sessions.start(officer, officer.test_post).token
    with app.test_request_context(environ_base={"REMOTE_ADDR": "10.20.30.40"}):
        principal = load_principal(token)  # what the sign-in guard makes current_user
        login_user(principal)
        event = audit.record("roster.viewed", actor=principal, target_type="contacts", target_id=42)
        # Nothing below the web layer reads the request: without the principal, no actor.
        unattributed = audit.record("roster.viewed", target_type="contacts", target_id=43)
    assert (event.officer_id, event.officer_pno) == (officer.id, officer.pno)
    assert (event.post_id, event.post_title) == (officer.test_post.id, officer.test_post.title_en)
    assert event.unit_path == baghpat["baraut"].path
    assert event.ip_address == "10.20.30.40"
    assert (unattributed.officer_id, unattributed.ip_address) == (None, "")


def test_an_event_outside_a_request_has_no_actor(db):
    event = audit.record("system.retention_run")
    assert (
        event.officer_id,
        event.officer_pno,
        event.post_id,
        event.unit_path,
        event.ip_address,
    ) == (None, "", None, None, "")


# ---- concurrency
# ------------------------------------------------------------------------------------


def test_concurrent_records_from_many_threads_form_one_gapless_chain(app, db):
    threads_count, per_thread = 8, 12
    db.session.commit()
    start = threading.Barrier(threads_count)
    failures = []

    def append(worker):
        try:
            with app.app_context():
                start.wait()
                for n in range(per_thread):
                    audit.record("test.concurrent", detail={"worker": worker, "n": n})
                    db.session.commit()
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            failures.append(error)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures
    seal(db)
    seqs = sorted(event.seq for event in all_events(db))
    assert seqs == list(range(1, threads_count * per_thread + 1))
    db.session.commit()
    result = audit.verify_chain()
    assert result.ok and result.checked == threads_count * per_thread


@pytest.mark.slow
def test_verify_streams_a_large_trail_in_batches(db):
    import tracemalloc

    count, batch_size = 3_000, 100
    prev_hash, rows = GENESIS_HASH, []
    when = datetime(2025, 1, 1, tzinfo=UTC)
    for seq in range(1, count + 1):
        row = {
            "seq": seq,
            "occurred_at": when,
            "action": "roster.viewed",
            "outcome": "success",
            "officer_id": 1,
            "officer_pno": "PNO000001",
            "post_id": 1,
            "post_title": "SHO Baraut",
            "unit_path": "/1/2/3/",
            "target_type": "contacts",
            "target_id": seq,
            "detail": "{}",
            "ip_address": "10.0.0.1",
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = event_hash(row)
        rows.append(row)
    db.session.execute(AuditEvent.__table__.insert(), rows)
    db.session.commit()
    del rows
    tracemalloc.start()
    result = audit.verify_chain(batch_size=batch_size)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.ok and result.checked == count
    # Every row at once would take about 4 MB (1.3 kB a row); a batch of 100 stays near 0.3 MB,
    # whatever the length of the trail.
    assert peak < 1024 * 1024, peak


# ---- the audit page
# -------------------------------------------------------------------------------


@pytest.fixture
def sp_baghpat(make_officer, baghpat):
    return make_officer(role="sp_office", unit=baghpat["district"])


def file_event(db, action, unit, **fields):
    event = audit.record(action, unit=unit, **fields)
    db.session.commit()
    return event


def test_the_audit_page_lists_only_events_of_the_own_district(
    db, client, login_as, sp_baghpat, baghpat, meerut
):
    file_event(db, "test.in_baraut", baghpat["baraut"])
    file_event(db, "test.in_kithaur", meerut["kithaur"])
    file_event(db, "test.nowhere", None)
    login_as(sp_baghpat)
    page = client.get("/audit/")
    assert page.status_code == 200
    assert "test.in_baraut" in page.text
    assert "test.in_kithaur" not in page.text
    assert "test.nowhere" not in page.text


def test_an_event_of_another_district_answers_404(
    db, client, login_as, sp_baghpat, baghpat, meerut
):
    own = file_event(db, "test.in_baraut", baghpat["baraut"], detail={"lgd_code": "119300"})
    other = file_event(db, "test.in_kithaur", meerut["kithaur"])
    login_as(sp_baghpat)
    seal(db)
    shown = client.get(f"/audit/{own.id}")
    assert shown.status_code == 200 and "119300" in shown.text and own.hash in shown.text
    assert client.get(f"/audit/{other.id}").status_code == 404


def test_the_state_sees_events_filed_under_no_unit(
    db, client, login_as, make_officer, state, meerut
):
    admin = make_officer(role="state_admin", unit=state)
    file_event(db, "test.nowhere", None)
    file_event(db, "test.in_kithaur", meerut["kithaur"])
    login_as(admin)
    page = client.get("/audit/")
    assert "test.nowhere" in page.text and "test.in_kithaur" in page.text


@pytest.mark.parametrize("role", ["constable", "station_officer", "asp", "control_room"])
def test_posts_without_the_audit_permission_are_refused(
    db, client, login_as, make_officer, baghpat, state, role
):
    unit = {
        "constable": baghpat["baraut"],
        "station_officer": baghpat["baraut"],
        "asp": baghpat["district"],
        "control_room": state,
    }[role]
    login_as(make_officer(role=role, unit=unit))
    assert client.get("/audit/").status_code == 403


def test_the_audit_page_needs_a_signed_in_user(db, client, baghpat):
    file_event(db, "test.in_baraut", baghpat["baraut"])
    response = client.get("/audit/")
    assert response.status_code in (302, 401)
    assert "test.in_baraut" not in response.text


def test_the_audit_page_filters_by_officer_action_and_outcome(
    db, client, login_as, sp_baghpat, make_officer, baghpat
):
    other = make_officer(role="station_officer", unit=baghpat["baraut"], pno="PNO777001")
    file_event(db, "auth.sign_in", baghpat["baraut"], officer=other, post=other.test_post)
    file_event(db, "auth.otp_failed", baghpat["baraut"], outcome="failure")
    file_event(db, "roster.viewed", baghpat["baraut"])
    login_as(sp_baghpat)

    def actions(**args):
        text_ = client.get("/audit/", query_string=args).text
        return {
            a for a in ("auth.sign_in", "auth.otp_failed", "roster.viewed") if f">{a}<" in text_
        }

    assert actions() == {"auth.sign_in", "auth.otp_failed", "roster.viewed"}
    assert actions(pno="pno777001") == {"auth.sign_in"}
    assert actions(action="auth.") == {"auth.sign_in", "auth.otp_failed"}
    assert actions(outcome="failure") == {"auth.otp_failed"}
    assert actions(post=other.test_post.title_en[2:12]) == {"auth.sign_in"}
    assert actions(action="auth%") == set()  # a wildcard is matched literally


def test_the_date_filter_reads_whole_days_in_ist(
    db, client, login_as, sp_baghpat, baghpat, monkeypatch
):
    # 18:45 UTC on 1 January is 00:15 IST on 2 January.
    for action, when in [
        ("test.late_on_jan_1_utc", datetime(2025, 1, 1, 18, 45, tzinfo=UTC)),
        ("test.early_on_jan_1_utc", datetime(2025, 1, 1, 10, 0, tzinfo=UTC)),
    ]:
        monkeypatch.setattr(audit, "utcnow", lambda when=when: when)
        file_event(db, action, baghpat["baraut"])
    login_as(sp_baghpat)
    on_2nd = client.get(
        "/audit/", query_string={"date_from": "2025-01-02", "date_to": "2025-01-02"}
    ).text
    on_1st = client.get(
        "/audit/", query_string={"date_from": "2025-01-01", "date_to": "2025-01-01"}
    ).text
    assert "test.late_on_jan_1_utc" in on_2nd and "test.early_on_jan_1_utc" not in on_2nd
    assert "test.early_on_jan_1_utc" in on_1st and "test.late_on_jan_1_utc" not in on_1st


def test_a_bad_date_range_is_explained_not_applied(db, client, login_as, sp_baghpat, baghpat):
    file_event(db, "roster.viewed", baghpat["baraut"])
    login_as(sp_baghpat)
    page = client.get("/audit/", query_string={"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert page.status_code == 200
    assert "The end date is before the start date." in page.text


def test_the_audit_page_pages_by_fifty_newest_first(db, client, login_as, sp_baghpat, baghpat):
    ids = [audit.record(f"test.event_{n:02d}", unit=baghpat["baraut"]).id for n in range(60)]
    db.session.commit()
    login_as(sp_baghpat)
    first = client.get("/audit/").text
    assert first.count('class="code">test.event_') == 50
    assert "test.event_59" in first and "test.event_10" in first and "test.event_09" not in first
    assert f"before={ids[10]}" in first
    older = client.get("/audit/", query_string={"before": ids[10]}).text
    assert older.count('class="code">test.event_') == 10
    assert "test.event_09" in older and f"after={ids[9]}" in older
    newer = client.get("/audit/", query_string={"after": ids[9]}).text
    assert newer.count('class="code">test.event_') == 50 and "test.event_59" in newer
