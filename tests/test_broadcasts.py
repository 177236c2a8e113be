"""Broadcasts: composing from a DLT template for an audience, the preview, approval above 100
recipients (maker-checker, one winner), quiet hours, opt-outs, and the pages in both languages."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cplan.models import AuditEvent, Contact, ContactCategory, ContactStatus, Script
from cplan.models.broadcasts import Broadcast, BroadcastMessage, BroadcastStatus, DeliveryState
from cplan.services import broadcasts, dlt
from cplan.services.errors import AlreadyDecided, NotAllowed, NotInScope, WorkflowError
from cplan.services.principal import Principal
from tests.concurrency import principal_in_thread, run_together

# 11:00 IST and 22:30 IST
DAY = datetime(2026, 11, 20, 5, 30, tzinfo=UTC)
NIGHT = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


@pytest.fixture
def world(app, make_district, make_station, make_place, make_officer):
    from cplan.devdata.demo_messages import ensure_demo_registry

    ensure_demo_registry()
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="135")
    baraut = make_station(baghpat, "Baraut")
    kotwali = make_station(baghpat, "Kotwali")
    sardhana = make_station(meerut, "Sardhana")
    return {
        "baghpat": baghpat,
        "baraut": baraut,
        "kotwali": kotwali,
        "sardhana": sardhana,
        "bijrol": make_place("BIJROL", station=baraut, name_hi="बिजरौल", lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=baraut, lgd_code="119301"),
        "sisana": make_place("SISANA", station=kotwali, lgd_code="119302"),
        "baraut_so": make_officer("station_officer", baraut),
        "kotwali_so": make_officer("station_officer", kotwali),
        "constable": make_officer("constable", baraut),
        "asp": make_officer("asp", baghpat),
        "asp2": make_officer("asp", baghpat),
        "sp": make_officer("sp_office", baghpat),
        "meerut_asp": make_officer("asp", meerut),
    }


@pytest.fixture
def add_contacts(db):
    counter = {"n": 0}

    def add(place, number=1, **fields):
        made = []
        for _ in range(number):
            counter["n"] += 1
            values = dict(
                place_id=place.id,
                unit_path=place.unit_path,
                name=f"Citizen {counter['n']}",
                name_script=Script.LATIN,
                category=ContactCategory.TEACHER,
                status=ContactStatus.ACTIVE,
                mobile=f"+9198{counter['n']:08d}",
            )
            values.update(fields)
            made.append(Contact(**values))
        db.session.add_all(made)
        db.session.flush()
        return made

    return add


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def alert(language="en"):
    return next(
        t for t in dlt.broadcast_templates() if t.name == "rumour_alert" and t.language == language
    )


def compose(officer, station, values=("the Baraut fair", "112"), language="en", **kwargs):
    return broadcasts.prepare(
        principal(officer),
        template_id=alert(language).id,
        values=values,
        station_id=station.id,
        **kwargs,
    )


def events(db, action):
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action))


def messages_of(db, broadcast):
    return db.session.scalar(
        select(func.count()).where(BroadcastMessage.broadcast_id == broadcast.id)
    )


def test_the_audience_leaves_out_inactive_opted_out_erased_and_confidential_contacts(
    db, world, add_contacts
):
    add_contacts(world["bijrol"], 3)
    add_contacts(world["bamnauli"], 2, category=ContactCategory.PRADHAN)
    add_contacts(world["bijrol"], 1, status=ContactStatus.INACTIVE)
    add_contacts(world["bijrol"], 1, status=ContactStatus.PENDING)
    add_contacts(world["bijrol"], 1, opted_out_at=DAY)
    add_contacts(world["bijrol"], 1, erased_at=DAY, mobile=None)
    add_contacts(world["bijrol"], 1, confidential=True)
    add_contacts(world["sisana"], 4)  # another station

    assert compose(world["baraut_so"], world["baraut"]).audience_size == 5
    # The ASP may see confidential contacts, so they are included when the ASP sends.
    assert compose(world["asp"], world["baraut"]).audience_size == 6
    assert (
        compose(world["baraut_so"], world["baraut"], place_ids=[world["bamnauli"].id]).audience_size
        == 2
    )
    assert compose(world["baraut_so"], world["baraut"], category="pradhan").audience_size == 2


def test_during_an_election_contacts_marked_in_it_are_left_out(
    db, world, add_contacts, make_officer, state
):
    from datetime import date, timedelta

    from cplan.models.elections import ElectionAuthority, ElectionKind, ElectionRole
    from cplan.services import election_marks, elections

    neutral, candidate = add_contacts(world["bijrol"], 2)
    control_room = make_officer("control_room", state)
    election = elections.create_election(
        principal(control_room),
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en="UP panchayat elections",
        phases=[elections.PhasePlan(1, date.today() + timedelta(days=5), [world["baghpat"]])],
    )
    election_marks.mark_contact(
        principal(world["baraut_so"]), candidate, ElectionRole.CANDIDATE, election=election
    )
    assert compose(world["baraut_so"], world["baraut"]).audience_size == 1
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    recipients = db.session.scalars(
        select(BroadcastMessage.contact_id).where(BroadcastMessage.broadcast_id == broadcast.id)
    ).all()
    assert recipients == [neutral.id]
    assert compose(world["baraut_so"], world["baraut"]).audience.election_id == election.id
    # Meerut does not vote in it: nobody is left out there.
    assert broadcasts.active_election_id(world["sardhana"], DAY) is None


def test_the_preview_gives_text_encoding_segments_and_totals(db, world, add_contacts):
    add_contacts(world["bijrol"], 3)
    draft = compose(world["baraut_so"], world["baraut"])
    assert draft.message.text == (
        "UP Police: the news about the Baraut fair is false. Do not share it. For the facts "
        "call 112. - UP Police"
    )
    assert (draft.message.encoding, draft.message.segments, draft.total_segments) == (
        "GSM-7",
        1,
        3,
    )
    hindi = compose(world["baraut_so"], world["baraut"], ("बड़ौत मेला", "112"), "hi")
    assert hindi.message.encoding == "UCS-2"
    assert hindi.message.segments == 2 and hindi.total_segments == 6


def test_a_value_too_many_or_missing_is_refused(db, world, add_contacts):
    add_contacts(world["bijrol"], 1)
    with pytest.raises(dlt.TemplateRefused, match="takes 2 value"):
        compose(world["baraut_so"], world["baraut"], ("the fair", "112", "extra"))
    with pytest.raises(dlt.TemplateRefused, match="Value 2 is empty"):
        compose(world["baraut_so"], world["baraut"], ("the fair", "", "", ""))
    assert compose(world["baraut_so"], world["baraut"], ("the fair", "112", "", "")).message


def test_a_small_broadcast_is_queued_at_once_one_message_per_contact(db, world, add_contacts):
    add_contacts(world["bijrol"], 5)
    draft = compose(world["baraut_so"], world["baraut"])
    broadcast = broadcasts.submit(principal(world["baraut_so"]), draft, now=DAY)
    assert broadcast.status == BroadcastStatus.APPROVED
    assert broadcast.queued_count == 5 == messages_of(db, broadcast)
    states = set(
        db.session.scalars(
            select(BroadcastMessage.state).where(BroadcastMessage.broadcast_id == broadcast.id)
        )
    )
    assert states == {DeliveryState.QUEUED}
    assert events(db, "broadcast.submitted") == 1 and events(db, "broadcast.queued") == 1


def test_a_text_changed_after_the_preview_is_refused_before_queueing(db, world, add_contacts):
    add_contacts(world["bijrol"], 2)
    draft = compose(world["baraut_so"], world["baraut"])
    tampered = broadcasts.Draft(
        message=dlt.BuiltMessage(
            template=draft.message.template,
            values=draft.message.values,
            text=draft.message.text.replace("Do not share", "Do  not share"),
        ),
        audience=draft.audience,
        audience_size=draft.audience_size,
        urgent=False,
    )
    with pytest.raises(dlt.TemplateRefused):
        broadcasts.submit(principal(world["baraut_so"]), tampered, now=DAY)
    assert db.session.scalar(select(func.count(Broadcast.id))) == 0


def test_more_than_100_recipients_wait_for_an_asp_who_is_not_the_composer(db, world, add_contacts):
    add_contacts(world["bijrol"], 101)
    draft = compose(world["asp"], world["baraut"])
    broadcast = broadcasts.submit(principal(world["asp"]), draft, now=DAY)
    assert broadcast.status == BroadcastStatus.AWAITING_APPROVAL
    assert messages_of(db, broadcast) == 0
    with pytest.raises(NotAllowed):
        broadcasts.decide(principal(world["asp"]), broadcast.id, broadcast.version, "approve")
    with pytest.raises(NotAllowed):
        broadcasts.decide(principal(world["baraut_so"]), broadcast.id, broadcast.version, "approve")
    with pytest.raises(NotInScope):
        broadcasts.decide(
            principal(world["meerut_asp"]), broadcast.id, broadcast.version, "approve"
        )
    decided = broadcasts.decide(
        principal(world["asp2"]), broadcast.id, broadcast.version, "approve", now=DAY
    )
    assert decided.status == BroadcastStatus.APPROVED
    assert decided.queued_count == 101 == messages_of(db, broadcast)
    assert events(db, "broadcast.approved") == 1


def test_two_approvers_at_once_decide_once_and_queue_once(app, db, world, add_contacts):
    add_contacts(world["bijrol"], 101)
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    broadcast_id, version = broadcast.id, broadcast.version
    asp, sp = world["asp"].id, world["sp"].id
    db.session.commit()  # read nothing after it: a new transaction would hold SQLite's lock

    def approve(officer_id):
        def work():
            decided = broadcasts.decide(
                principal_in_thread(officer_id), broadcast_id, version, "approve", now=DAY
            )
            return decided.queued_count

        return work

    results = run_together(app, [approve(asp), approve(sp)])
    assert sorted(type(result).__name__ for result in results) == ["AlreadyDecided", "int"]
    assert 101 in results
    db.session.expire_all()
    assert messages_of(db, db.session.get(Broadcast, broadcast_id)) == 101
    assert events(db, "broadcast.approved") == 1


def test_an_approval_already_made_answers_who_decided(db, world, add_contacts):
    add_contacts(world["bijrol"], 101)
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    seen = broadcast.version
    broadcasts.decide(principal(world["asp"]), broadcast.id, seen, "reject", note="Not needed")
    with pytest.raises(AlreadyDecided):
        broadcasts.decide(principal(world["sp"]), broadcast.id, seen, "approve", now=DAY)
    assert messages_of(db, broadcast) == 0


def test_quiet_hours_refuse_a_broadcast_unless_the_sp_office_marks_it_urgent(
    db, world, add_contacts
):
    add_contacts(world["bijrol"], 3)
    with pytest.raises(WorkflowError, match="21:00"):
        broadcasts.submit(
            principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=NIGHT
        )
    with pytest.raises(NotAllowed):
        compose(world["asp"], world["baraut"], urgent=True)
    urgent = broadcasts.submit(
        principal(world["sp"]), compose(world["sp"], world["baraut"], urgent=True), now=NIGHT
    )
    assert urgent.urgent and urgent.queued_count == 3


def test_an_approval_in_quiet_hours_needs_the_sp_office_to_mark_it_urgent(db, world, add_contacts):
    add_contacts(world["bijrol"], 101)
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    with pytest.raises(WorkflowError, match="21:00"):
        broadcasts.decide(
            principal(world["asp"]), broadcast.id, broadcast.version, "approve", now=NIGHT
        )
    with pytest.raises(NotAllowed):
        broadcasts.decide(
            principal(world["asp"]), broadcast.id, broadcast.version, "approve", urgent=True
        )
    decided = broadcasts.decide(
        principal(world["sp"]), broadcast.id, broadcast.version, "approve", urgent=True, now=NIGHT
    )
    assert decided.urgent and decided.queued_count == 101


def test_an_opted_out_contact_is_never_messaged_and_the_opt_out_says_who_when_how(
    db, world, add_contacts
):
    keeps, leaves = add_contacts(world["bijrol"], 2)
    broadcasts.opt_out(principal(world["constable"]), leaves.id, "phone_call", now=DAY)
    assert leaves.opted_out_at == DAY and leaves.opt_out_channel == "phone_call"
    assert leaves.opted_out_by_officer_id == world["constable"].id
    assert events(db, "roster.opted_out") == 1
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    recipients = set(
        db.session.scalars(
            select(BroadcastMessage.contact_id).where(BroadcastMessage.broadcast_id == broadcast.id)
        )
    )
    assert recipients == {keeps.id}
    with pytest.raises(WorkflowError):
        broadcasts.opt_out(principal(world["constable"]), leaves.id, "written")


def test_a_station_cannot_broadcast_to_another_station_or_its_villages(db, world, add_contacts):
    add_contacts(world["sisana"], 2)
    with pytest.raises(NotInScope):
        compose(world["baraut_so"], world["kotwali"])
    with pytest.raises(NotInScope):
        compose(world["baraut_so"], world["baraut"], place_ids=[world["sisana"].id])
    with pytest.raises(NotAllowed):
        compose(world["constable"], world["baraut"])


# ---- pages ------------------------------------------------------------------------------------


@pytest.fixture
def daytime(monkeypatch):
    """Pages act at 11:00 IST, outside quiet hours, whenever the tests run."""
    monkeypatch.setattr(broadcasts, "utcnow", lambda: DAY)


def test_composing_previewing_and_sending_in_the_browser(
    client, db, world, add_contacts, login_as, daytime
):
    add_contacts(world["bijrol"], 3)
    login_as(world["baraut_so"])
    page = client.get("/broadcasts/new").get_data(as_text=True)
    assert "BIJROL" in page and "rumour alert" in page
    form = {
        "template": str(alert().id),
        "value_1": "the Baraut fair",
        "value_2": "112",
        "category": "",
    }
    preview = client.post(
        f"/broadcasts/new?station={world['baraut'].id}", data={**form, "preview": "Preview"}
    ).get_data(as_text=True)
    assert "the news about the Baraut fair is false" in preview
    assert "GSM-7" in preview
    assert db.session.scalar(select(func.count(Broadcast.id))) == 0
    too_long = client.post(
        f"/broadcasts/new?station={world['baraut'].id}",
        data={**form, "value_1": "x" * 31, "preview": "Preview"},
    ).get_data(as_text=True)
    assert "31 characters" in too_long
    odd = client.post(
        f"/broadcasts/new?station={world['baraut'].id}",
        data={**form, "places": ["x", "१"], "preview": "Preview"},
    )
    assert odd.status_code == 200  # values that are not ids are ignored, not a server error
    sent = client.post(
        f"/broadcasts/new?station={world['baraut'].id}", data={**form, "send": "Send"}
    )
    assert sent.status_code == 302
    broadcast = db.session.scalars(select(Broadcast)).one()
    assert broadcast.queued_count == 3
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Waiting to be sent" in page and "the Baraut fair" in page


def test_an_approver_approves_on_the_page_and_a_second_click_is_told(
    client, db, world, add_contacts, login_as, daytime
):
    add_contacts(world["bijrol"], 101)
    broadcast = broadcasts.submit(
        principal(world["baraut_so"]), compose(world["baraut_so"], world["baraut"]), now=DAY
    )
    db.session.commit()
    login_as(world["asp"])
    url = f"/broadcasts/{broadcast.id}"
    assert "Approve and send" in client.get(url).get_data(as_text=True)
    data = {"version": broadcast.version, "approve": "Approve"}
    client.post(f"{url}/decide", data=data)
    assert messages_of(db, broadcast) == 101
    again = client.post(f"{url}/decide", data=data, follow_redirects=True)
    assert "Already decided by" in again.get_data(as_text=True)


def test_the_broadcast_pages_render_in_hindi(client, db, world, add_contacts, login_as):
    add_contacts(world["bijrol"], 2)
    broadcast = broadcasts.submit(
        principal(world["asp"]), compose(world["asp"], world["baraut"]), now=DAY
    )
    contact = add_contacts(world["bijrol"])[0]
    db.session.commit()
    login_as(world["asp"])
    client.post("/language/hi", data={"next": "/"})
    for url in (
        "/broadcasts/",
        "/broadcasts/new",
        f"/broadcasts/new?station={world['baraut'].id}",
        f"/broadcasts/{broadcast.id}",
        f"/broadcasts/contacts/{contact.id}/opt-out",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="hi"' in response.get_data(as_text=True)
    assert "प्रसारण" in client.get("/broadcasts/").get_data(as_text=True)


def test_another_districts_post_gets_404(client, db, world, add_contacts, login_as):
    add_contacts(world["bijrol"], 2)
    broadcast = broadcasts.submit(
        principal(world["asp"]), compose(world["asp"], world["baraut"]), now=DAY
    )
    db.session.commit()
    login_as(world["meerut_asp"])
    assert client.get(f"/broadcasts/{broadcast.id}").status_code == 404
    assert client.get(f"/broadcasts/new?station={world['baraut'].id}").status_code == 404
    assert client.post(f"/broadcasts/{broadcast.id}/decide", data={"version": 1}).status_code in (
        302,
        404,
    )


def test_recording_an_opt_out_on_its_page(client, db, world, add_contacts, login_as):
    contact = add_contacts(world["bijrol"])[0]
    db.session.commit()
    login_as(world["constable"])
    url = f"/broadcasts/contacts/{contact.id}/opt-out"
    assert url in client.get(f"/roster/contacts/{contact.id}").get_data(as_text=True)
    response = client.post(url, data={"channel": "in_person"}, follow_redirects=True)
    assert "will receive no broadcasts" in response.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.opt_out_channel == "in_person"
    assert "Opted out of broadcasts" in client.get(f"/roster/contacts/{contact.id}").get_data(
        as_text=True
    )
