"""Issue 14, finding 9: refusals (403/404) on record URLs leave a trace, and a scan of ids
cannot flood the audit trail (one event per officer and endpoint a minute, with the count)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.models import AuditEvent, Contact, ContactCategory, ContactStatus, Script
from cplan.models.base import utcnow
from cplan.services import audit, refusals


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer):
    baghpat = make_district("Baghpat", code="124")
    baraut, kotwali = make_station(baghpat, "Baraut"), make_station(baghpat, "Kotwali")
    far_place = make_place("SISANA", station=kotwali, lgd_code="119302")
    far_contact = Contact(
        place_id=far_place.id,
        unit_path=far_place.unit_path,
        name="Bhola Nath",
        name_script=Script.LATIN,
        category=ContactCategory.TEACHER,
        status=ContactStatus.PENDING,
        mobile="+918022233445",
    )
    db.session.add(far_contact)
    db.session.flush()
    world = {
        "baghpat": baghpat,
        "far_contact": far_contact,
        "constable": make_officer("constable", baraut, pno="PNO111111"),
        "sp_office": make_officer("sp_office", baghpat),
    }
    db.session.commit()
    return world


def refusal_events(db):
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access.refused").order_by(AuditEvent.id)
    ).all()


@pytest.fixture
def clock(monkeypatch):
    """The refusal counter's clock, moved forward by the test."""
    now = {"at": utcnow()}
    monkeypatch.setattr(refusals, "utcnow", lambda: now["at"])
    return now


def test_a_refused_record_leaves_an_event_naming_the_officer_the_endpoint_and_the_id(
    db, client, login_as, world
):
    login_as(world["constable"])
    contact_id = world["far_contact"].id
    assert client.get(f"/roster/contacts/{contact_id}").status_code == 404
    (event,) = refusal_events(db)
    assert (event.outcome.value, event.officer_pno, event.unit_path) == (
        "denied",
        "PNO111111",
        world["constable"].test_post.unit.path,
    )
    assert event.detail_data == {
        "endpoint": "roster.contact",
        "method": "GET",
        "status": 404,
        "record": {"contact_id": contact_id},
    }
    assert audit.verify_chain().ok


def test_a_forbidden_decision_and_an_out_of_scope_api_call_are_recorded(
    db, client, login_as, world, make_officer, make_district
):
    contact_id = world["far_contact"].id
    login_as(world["constable"])
    assert (
        client.post(f"/enrolments/{contact_id}/approve", data={"version": "1"}).status_code == 403
    )
    login_as(make_officer("asp", make_district("Meerut", code="135")))
    response = client.post(
        f"/api/enrolments/{contact_id}/decision", json={"action": "approve", "version": 1}
    )
    assert response.status_code == 404
    forbidden, missing = refusal_events(db)
    assert (forbidden.detail_data["endpoint"], forbidden.detail_data["status"]) == (
        "enrolment.approve",
        403,
    )
    assert (missing.detail_data["endpoint"], missing.detail_data["status"]) == (
        "enrolment_api.decide",
        404,
    )
    db.session.refresh(world["far_contact"])
    assert world["far_contact"].status == ContactStatus.PENDING


def test_a_scan_of_ids_leaves_one_event_a_minute_with_the_count(db, client, login_as, world, clock):
    login_as(world["constable"])
    first = world["far_contact"].id
    for contact_id in range(first, first + 30):
        assert client.get(f"/roster/contacts/{contact_id}").status_code == 404
    clock["at"] += timedelta(seconds=59)
    assert client.get(f"/roster/contacts/{first + 30}").status_code == 404
    (opening,) = refusal_events(db)
    assert opening.detail_data["record"] == {"contact_id": first}

    clock["at"] += timedelta(seconds=2)  # the burst has closed: the next refusal tells its size
    assert client.get(f"/roster/contacts/{first + 31}").status_code == 404
    opening, following = refusal_events(db)
    burst = following.detail_data["previous_burst"]
    assert burst["refusals"] == 31 and burst["from"] < burst["to"]
    assert following.detail_data["record"] == {"contact_id": first + 31}
    assert audit.verify_chain().ok


def test_each_endpoint_and_each_officer_has_its_own_count(
    db, client, login_as, world, make_officer
):
    contact_id = world["far_contact"].id
    login_as(world["constable"])
    client.get(f"/roster/contacts/{contact_id}")
    client.get(f"/enrolments/contacts/{contact_id}/history")
    client.get(f"/roster/contacts/{contact_id}")
    login_as(make_officer("constable", world["constable"].test_post.unit))
    client.get(f"/roster/contacts/{contact_id}")
    assert [(e.officer_pno, e.detail_data["endpoint"]) for e in refusal_events(db)] == [
        ("PNO111111", "roster.contact"),
        ("PNO111111", "enrolment.history"),
        (refusal_events(db)[-1].officer_pno, "roster.contact"),
    ]
    assert refusal_events(db)[-1].officer_pno != "PNO111111"


@pytest.mark.parametrize("url", ["/no-such-page", "/audit/", "/roster-files/template/xx.csv"])
def test_a_refusal_that_names_no_record_is_not_recorded(db, client, login_as, world, url):
    login_as(world["constable"])
    assert client.get(url).status_code in (403, 404)
    assert refusal_events(db) == []


def test_an_anonymous_visitor_leaves_no_refusal(db, client, world):
    client.get(f"/roster/contacts/{world['far_contact'].id}")
    assert refusal_events(db) == []


def test_the_audit_page_shows_the_count_of_a_burst_still_open(db, client, login_as, world):
    login_as(world["constable"])
    for _ in range(5):
        client.get(f"/roster/contacts/{world['far_contact'].id}")
    (event,) = refusal_events(db)
    login_as(world["sp_office"])
    page = client.get(f"/audit/{event.id}").get_data(as_text=True)
    assert "Refusals counted since this event" in page and "<dd>5, the last at" in page


def test_refusals_at_once_are_each_counted_once(app, db, world):
    """Six refusals of one officer at one endpoint racing each other: every one is counted,
    either in an event of its own or in the burst an event opened."""
    from cplan.models import RefusalBurst
    from tests.concurrency import principal_in_thread, run_together

    officer_id = world["constable"].id
    db.session.commit()  # the reading above must not hold SQLite's write lock

    def refuse():
        principal = principal_in_thread(officer_id)
        refusals.record_refusal(
            principal.officer, principal.post, "roster.contact", 404, "GET", {"contact_id": 1}
        )

    results = run_together(app, [refuse] * 6)
    assert results == [None] * 6, results
    db.session.expire_all()
    events = refusal_events(db)
    (burst,) = db.session.scalars(select(RefusalBurst)).all()
    assert len(events) >= 1 and len(events) + burst.count - 1 == 6
    assert audit.verify_chain().ok
