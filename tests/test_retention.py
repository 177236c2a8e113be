"""`flask cplan retention`: what has outlived its period goes, in batches, with the clock moved
forward; the audit trail records it and stays intact (issue 21)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cplan.models import OtpChallenge
from cplan.models.accounts import (
    CugThrottle,
    DailyExportCount,
    HandsetProof,
    SignInCounter,
    SignInSession,
    TrustedDevice,
)
from cplan.models.audit import AuditEvent, RefusalBurst
from cplan.models.base import utcnow
from cplan.models.messages import MessageState, OutboundMessage
from cplan.services import audit, sessions

NUMBER = "+919876543210"


@pytest.fixture
def history(db, make_district, make_officer):
    """A year's worth of sign-in residue, all written today, and one session seen later."""
    today = utcnow()
    officer = make_officer("sp_office", make_district("Baghpat", code="124"))
    post = officer.test_post
    sessions.start(officer, post)
    later = sessions.start(officer, post)
    challenge = OtpChallenge(
        public_id="c1", cug_number=NUMBER, post=post, expires_at=today + timedelta(minutes=5)
    )
    spare = OtpChallenge(public_id="c2", cug_number=NUMBER, expires_at=today)
    db.session.add_all([challenge, spare])
    db.session.flush()
    db.session.add(
        HandsetProof(
            token_hash="h" * 64,
            challenge_id=challenge.id,
            post_id=post.id,
            cug_number=NUMBER,
            expires_at=today,
        )
    )
    db.session.add_all(
        [
            OutboundMessage(to_number=NUMBER, template="cug_changed", state=MessageState.SENT),
            OutboundMessage(to_number=NUMBER, template="cug_changed", state=MessageState.FAILED),
            OutboundMessage(to_number=NUMBER, template="cug_changed", state=MessageState.PENDING),
            SignInCounter(key=f"cug:{NUMBER}", failures=2, window_started_at=today),
            CugThrottle(cug_number=NUMBER, sends_in_window=1, last_sent_at=today),
            TrustedDevice(token_hash="d" * 64, post_id=post.id),
            DailyExportCount(officer_id=officer.id, day=today.date(), exports=1),
            RefusalBurst(
                officer_id=officer.id,
                endpoint="roster.village",
                started_at=today,
                last_at=today,
                event_id=1,
            ),
        ]
    )
    audit.record("auth.sign_in", officer=officer, post=post)
    db.session.flush()
    later_row = db.session.scalars(
        select(SignInSession).order_by(SignInSession.id.desc()).limit(1)
    ).one()
    later_row.last_seen_at = today + timedelta(days=200)
    db.session.commit()
    return later


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def clock(monkeypatch):
    """Move the commands' clock ``days`` ahead."""
    real = utcnow

    def move(days):
        monkeypatch.setattr("cplan.models.base.utcnow", lambda: real() + timedelta(days=days))

    return move


def test_nothing_has_expired_today(runner, history):
    result = runner.invoke(args=["cplan", "retention"])
    assert result.exit_code == 0, result.output
    assert "sign_in_sessions         365d" in result.output
    assert "dry run: nothing deleted" in result.output


def test_a_dry_run_a_year_later_counts_but_deletes_nothing(runner, db, history, clock):
    clock(366)
    result = runner.invoke(args=["cplan", "retention"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()[1:10]}
    assert rows["sign_in_sessions"] == "1" and rows["sign_in_codes"] == "1"
    assert rows["handset_proofs"] == "1" and rows["sms_notices"] == "2"
    assert rows["sign_in_counters"] == "1"
    assert count(db, SignInSession) == 2 and count(db, OutboundMessage) == 3
    assert count(db, AuditEvent, AuditEvent.action == "retention.applied") == 0


def test_applying_a_year_later_deletes_in_batches_records_it_and_keeps_the_chain(
    runner, db, history, clock
):
    clock(366)
    result = runner.invoke(args=["cplan", "retention", "--apply", "--batch-size", "1"])
    assert result.exit_code == 0, result.output

    assert "deleted: sms_notices: 2" in result.output
    # The session seen 200 days later is 166 days old: kept; so is the unsent notice.
    assert count(db, SignInSession) == 1
    assert count(db, OutboundMessage) == 1
    assert db.session.scalars(select(OutboundMessage)).one().state == MessageState.PENDING
    # The proof went first, then both challenges (the one it pointed at included).
    assert count(db, HandsetProof) == 0 and count(db, OtpChallenge) == 0
    for model in (SignInCounter, CugThrottle, TrustedDevice, DailyExportCount, RefusalBurst):
        assert count(db, model) == 0, model
    # The audit trail keeps its events, gains one saying what went, and verifies.
    assert count(db, AuditEvent, AuditEvent.action == "auth.sign_in") == 1
    (event,) = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.applied")
    ).all()
    deleted = dict(event.detail_data["deleted"])
    assert deleted["sign_in_sessions"] == 1 and deleted["sign_in_codes"] == 2
    assert deleted["handset_proofs"] == 1 and deleted["sms_notices"] == 2
    assert NUMBER not in event.detail
    assert "audit chain intact (2 events)" in result.output
    assert audit.verify_chain().ok


def test_the_audit_trail_is_never_deleted_and_the_output_says_so(runner, history, clock):
    clock(2000)
    result = runner.invoke(args=["cplan", "retention"])
    assert "kept: audit_events: 1 rows over a year old" in result.output


def test_a_longer_configured_period_keeps_the_rows(app, runner, db, history, clock):
    app.config["RETENTION_DAYS"] = {"sign_in_sessions": 400}
    clock(366)
    runner.invoke(args=["cplan", "retention", "--apply"])
    assert count(db, SignInSession) == 2


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"sign_in_sessions": 90}, "at least 365 days"),
        ({"audit_events": 400}, "none of"),
        ({"sms_notices": "forever"}, "number of days"),
    ],
)
def test_a_period_below_the_law_or_unknown_is_refused(app, runner, db, history, setting, message):
    app.config["RETENTION_DAYS"] = setting
    result = runner.invoke(args=["cplan", "retention", "--apply"])
    assert result.exit_code == 1 and message in result.output
    assert count(db, SignInSession) == 2
