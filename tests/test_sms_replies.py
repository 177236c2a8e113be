"""Citizens' SMS replies forwarded by the gateway: a STOP (in English or Hindi) opts every
contact with that number out of broadcasts, recorded "by SMS reply" with the time; the request
is signed like delivery reports, a reply forwarded twice changes nothing, and other replies or
unknown numbers change nothing either."""

import pytest
from sqlalchemy import func, select

from cplan.models import AuditEvent, Contact
from cplan.services import broadcasts
from tests import test_sms_worker as base
from tests.fake_gateway import signed_reply
from tests.test_sms_worker import DAY, Principal, add_contacts, dlt

world = base.world  # the worker tests' fixture

SECRET = "dlr-shared-secret-0123456789"
URL = "/broadcasts/replies/http"


@pytest.fixture
def reply(app, client):
    app.config["SMS_DLR_SECRET"] = SECRET

    def post(number, text, reply_id="in-1", secret=SECRET, url=URL):
        body, headers = signed_reply(secret, number, text, reply_id)
        return client.post(url, data=body, headers=headers)

    return post


def contact(db, number):
    db.session.expire_all()
    return db.session.scalar(select(Contact).where(Contact.mobile == number))


def opt_out_events(db):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == "roster.opted_out"))


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        " Stop UPPCPL ",
        "STOP.",
        "Unsubscribe",
        "बंद",
        "बन्द करें",
        "रोकें",
        "मत भेजो",
        "cancel",
    ],
)
def test_a_stop_reply_in_english_or_hindi_opts_the_contact_out(db, world, reply, text):
    first, _other = add_contacts(db, world["village"], 2)
    db.session.commit()
    answer = reply(first.mobile.removeprefix("+"), text)
    assert answer.status_code == 200 and answer.json == {"results": ["opted_out"]}
    opted = contact(db, first.mobile)
    assert opted.opted_out_at is not None and opted.opt_out_channel == "sms_reply"
    assert opted.opted_out_by_officer_id is None
    assert contact(db, _other.mobile).opted_out_at is None


@pytest.mark.parametrize(
    "text", ["Thank you", "STOPPED the fight?", "बंदूक", "", "ok stop", "Cancel the meeting?", "मत"]
)
def test_other_replies_change_nothing(db, world, reply, text):
    (citizen,) = add_contacts(db, world["village"], 1)
    db.session.commit()
    assert reply(citizen.mobile, text).json == {"results": ["not_stop"]}
    assert contact(db, citizen.mobile).opted_out_at is None
    assert opt_out_events(db) == 0


def test_a_reply_forwarded_twice_opts_out_once(db, world, reply):
    (citizen,) = add_contacts(db, world["village"], 1)
    db.session.commit()
    assert reply(citizen.mobile.removeprefix("+"), "STOP").json == {"results": ["opted_out"]}
    when = contact(db, citizen.mobile).opted_out_at
    assert reply(citizen.mobile.removeprefix("+"), "STOP").json == {"results": ["already"]}
    assert contact(db, citizen.mobile).opted_out_at == when
    assert opt_out_events(db) == 1


def test_every_contact_with_the_number_is_opted_out_and_audited(db, world, reply):
    first, second, stranger = add_contacts(db, world["village"], 3)
    second.mobile_alt, second.mobile = first.mobile, "+919000000001"
    db.session.commit()
    assert reply("0" + first.mobile[3:], "STOP").json == {"results": ["opted_out"]}
    db.session.expire_all()
    assert db.session.get(Contact, first.id).opted_out_at is not None
    assert db.session.get(Contact, second.id).opted_out_at is not None
    assert db.session.get(Contact, stranger.id).opted_out_at is None
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.opted_out")
    ).all()
    assert sorted(event.target_id for event in events) == [first.id, second.id]
    assert all('"channel":"sms_reply"' in event.detail for event in events)
    assert all(event.officer_id is None for event in events)
    assert first.mobile[3:] not in "".join(event.detail for event in events)


def test_an_opted_out_contact_is_left_out_of_the_next_broadcast(db, world, reply):
    leaving, staying = add_contacts(db, world["village"], 2)
    db.session.commit()
    reply(leaving.mobile, "बंद")
    sp = world["sp"]
    template = next(t for t in dlt.broadcast_templates() if t.name == "rumour_alert")
    draft = broadcasts.prepare(
        Principal(officer=sp, post=sp.test_post, session=None),
        template_id=template.id,
        values=["the fair", "112"],
        station_id=world["station"].id,
    )
    assert draft.audience_size == 1
    broadcast = broadcasts.submit(
        Principal(officer=sp, post=sp.test_post, session=None), draft, now=DAY
    )
    assert broadcast.queued_count == 1 and staying.opted_out_at is None


def test_unknown_and_malformed_numbers_change_nothing(db, world, reply):
    add_contacts(db, world["village"], 1)
    db.session.commit()
    assert reply("919999999999", "STOP").json == {"results": ["unknown"]}
    assert reply("12345", "STOP").json == {"results": ["bad_number"]}
    assert opt_out_events(db) == 0


def test_a_reply_without_the_right_signature_or_gateway_is_refused(db, world, client, reply):
    (citizen,) = add_contacts(db, world["village"], 1)
    db.session.commit()
    assert reply(citizen.mobile, "STOP", secret="not-the-secret").status_code == 401
    body, headers = signed_reply(SECRET, citizen.mobile, "STOP", "in-9")
    headers.pop("X-Signature")
    assert client.post(URL, data=body, headers=headers).status_code == 401
    assert reply(citizen.mobile, "STOP", url="/broadcasts/replies/nowhere").status_code == 404
    assert contact(db, citizen.mobile).opted_out_at is None


def test_without_a_shared_secret_the_endpoint_does_not_exist(app, db, world, client):
    (citizen,) = add_contacts(db, world["village"], 1)
    db.session.commit()
    app.config["SMS_DLR_SECRET"] = None
    body, headers = signed_reply("", citizen.mobile, "STOP", "in-1")
    assert client.post(URL, data=body, headers=headers).status_code == 404


def test_the_opt_out_page_says_the_citizen_replied(db, world, reply, client, login_as):
    (citizen,) = add_contacts(db, world["village"], 1)
    db.session.commit()
    reply(citizen.mobile, "STOP")
    login_as(world["sp"])
    page = client.get(f"/broadcasts/contacts/{citizen.id}/opt-out").get_data(as_text=True)
    assert "By replying to a broadcast SMS" in page and "recorded by" not in page
