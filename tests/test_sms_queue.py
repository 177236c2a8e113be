"""Security notices never wait for the SMS gateway (issue 14, finding 10).

A CUG change used to send its "CUG changed" SMS inside the transaction: a hanging gateway held a
worker and the transaction for 10 s, a failing one answered 500 and left the number unchanged,
yet the notice could still reach the old number. Now the notice is queued in the change's
transaction and sent after the commit; these tests drive the real HTTP backend against the fake
gateway (tests/conftest.py) when it hangs, fails, rejects the message and refuses connections.
"""

import threading
import time

import pytest
from sqlalchemy import func, select

from cplan.extensions import db as _db
from cplan.models import AuditEvent, MessageState, OutboundMessage, Post, SignInSession
from cplan.services import sessions, sms_queue
from cplan.services.sms import get_outbox

NEW_NUMBER = "+917000012345"


@pytest.fixture
def baghpat(make_district, make_station):
    district = make_district("Baghpat", code="124")
    return {"district": district, "station": make_station(district, "Baraut")}


@pytest.fixture
def sho(db, make_officer, baghpat):
    officer = make_officer("station_officer", baghpat["station"], name="Ram Kumar")
    sessions.start(officer, officer.test_post)  # a constable's handset is signed in
    db.session.commit()
    return officer


@pytest.fixture
def admin(client, db, login_as, make_officer, baghpat):
    login_as(make_officer("sp_office", baghpat["district"], name="SP Office Baghpat"))
    return client


def committed(db, statement):
    """Read what other transactions committed, then leave SQLite's write lock free again."""
    db.session.rollback()
    try:
        return db.session.execute(statement).all()
    finally:
        db.session.rollback()


def notices(db):
    """The queued messages as plain rows (an ORM object would reload, and lock, on SQLite)."""
    return committed(
        db,
        select(
            OutboundMessage.state,
            OutboundMessage.attempts,
            OutboundMessage.to_number,
            OutboundMessage.error,
            OutboundMessage.sent_at,
        ).order_by(OutboundMessage.id),
    )


def open_sessions(db, post):
    return committed(
        db,
        select(func.count(SignInSession.id)).where(
            SignInSession.post_id == post.id, SignInSession.revoked_at.is_(None)
        ),
    )[0][0]


def change_cug(admin, post):
    post_id = post.id
    started = time.monotonic()
    response = admin.post(f"/admin/posts/{post_id}/cug", data={"cug": NEW_NUMBER})
    seconds = time.monotonic() - started
    # A real request's teardown ends its session; the test's app context keeps it (and, on
    # SQLite, the write lock of whatever the page read after its commit) until told.
    _db.session.rollback()
    return response, seconds


def break_gateway(gateway, how):
    if how == "fails":
        gateway.status = 500
    elif how == "rejects":
        gateway.status = 400
    elif how == "refuses":
        gateway.shutdown()
        gateway.server_close()
    elif how == "hangs":
        gateway.hold = threading.Event()


@pytest.mark.parametrize(
    "how, reason",
    [
        ("hangs", "unreachable (TimeoutError)"),
        ("fails", "HTTP 500"),
        ("rejects", "HTTP 400"),
        ("refuses", "unreachable"),
    ],
)
def test_a_cug_change_commits_at_once_whatever_the_gateway_does(
    http_app, gateway, admin, db, sho, how, reason
):
    http_app.config["SMS_HTTP_TIMEOUT"] = 3
    post = sho.test_post
    old_number = post.cug_number
    break_gateway(gateway, how)
    try:
        response, seconds = change_cug(admin, post)

        # The page is back at once, before the gateway could have answered or timed out...
        assert response.status_code == 302 and response.location.endswith(f"/admin/posts/{post.id}")
        assert seconds < 3
        # ...and the change is done: the new number, the post's sessions ended.
        assert committed(db, select(Post.cug_number).where(Post.id == post.id))[0][0] == NEW_NUMBER
        assert open_sessions(db, post) == 0
        if how == "hangs":
            [notice] = notices(db)
            assert notice.state in (
                MessageState.PENDING,
                MessageState.SENDING,
            )  # still with the gateway
    finally:
        assert sms_queue.wait_for_deliveries(15)
        if how == "hangs":
            gateway.hold.set()

    [notice] = notices(db)
    assert (notice.state, notice.attempts, notice.to_number) == (MessageState.FAILED, 1, old_number)
    assert reason in notice.error and old_number[3:] not in notice.error
    events = committed(db, select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id))
    assert ("admin.post_cug_changed", "success") in [(a, o.value) for a, o in events]
    assert ("sms.notice_sent", "failure") in [(a, o.value) for a, o in events]
    # The SP office sees on the post's page that the old number was not told.
    assert "Not delivered" in admin.get(f"/admin/posts/{post.id}").get_data(as_text=True)


def test_a_healthy_gateway_tells_the_old_number_and_never_the_new_one(
    http_app, gateway, admin, db, sho
):
    post = sho.test_post
    old_number = post.cug_number

    response, _seconds = change_cug(admin, post)

    assert response.status_code == 302
    assert sms_queue.wait_for_deliveries(15)
    [request] = gateway.received
    assert request["fields"]["to"] == [old_number.lstrip("+")]
    assert request["fields"]["dlt_template_id"] == ["1207160000000000003"]
    assert NEW_NUMBER[3:] not in request["fields"]["message"][0]
    [notice] = notices(db)
    assert notice.state == MessageState.SENT and notice.sent_at is not None and notice.error == ""
    assert "Sent" in admin.get(f"/admin/posts/{post.id}").get_data(as_text=True)


def test_a_refused_cug_change_queues_and_sends_nothing(app, admin, db, make_post, baghpat, sho):
    other = make_post("constable", baghpat["station"])
    db.session.commit()

    response = admin.post(f"/admin/posts/{other.id}/cug", data={"cug": sho.test_post.cug_number})

    assert (
        response.status_code == 200 and b"already belongs to another active post" in response.data
    )
    assert notices(db) == [] and get_outbox() == []


def test_a_notice_queued_in_a_transaction_that_rolls_back_is_never_sent(app, db, sho):
    sms_queue.enqueue(
        sho.test_post.cug_number, "cug_changed", "SHO Baraut", "05-03-2026", target=sho.test_post
    )
    db.session.rollback()

    assert get_outbox() == [] and notices(db) == []
    db.session.commit()  # a later commit must not send what was rolled back
    assert get_outbox() == []


def test_a_notice_goes_out_once_after_the_commit_and_cannot_be_claimed_twice(app, db, sho):
    notice = sms_queue.enqueue(sho.test_post.cug_number, "cug_changed", "SHO Baraut", "05-03-2026")
    assert get_outbox() == []  # not before the commit

    db.session.commit()

    assert [message.to for message in get_outbox()] == [sho.test_post.cug_number]
    assert sms_queue.deliver(notice.id) is None  # already sent: a second deliverer takes nothing
    assert len(get_outbox()) == 1


def test_a_post_title_the_template_would_refuse_still_lets_the_cug_change_through(
    app, admin, db, sho
):
    post = sho.test_post
    post.title_en = "SHO {#var#} Baraut\n" + "x" * 40
    db.session.commit()

    response, _seconds = change_cug(admin, post)

    assert response.status_code == 302
    [message] = get_outbox()
    assert "{#" not in message.text and "\n" not in message.text
