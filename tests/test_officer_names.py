"""Officers' names in the reader's language: a Hindi name where there is one, on every page that
names an officer (the account bar, the audit pages, incident timelines, decisions)."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from cplan.devdata.demo_people import DEMO_POSTS
from cplan.models import Officer
from cplan.models.audit import AuditEvent
from cplan.models.roster import Script
from cplan.services import enrolment, incidents, roster
from cplan.services.principal import Principal
from cplan.services.roster import script_of


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    constable = make_officer("constable", station, name="Ramesh Kumar")
    constable.name_hi = "रमेश कुमार"
    asp = make_officer("asp", district, name="Anita Singh")
    asp.name_hi = "अनीता सिंह"
    sho = make_officer("station_officer", station, name="Vijay Pal")  # no Hindi name
    db.session.commit()
    return {
        "district": district,
        "station": station,
        "constable": constable,
        "asp": asp,
        "sho": sho,
        "sp": make_officer("sp_office", district, name="Office Baghpat"),
        "place": make_place("BIJROL", station=station, lgd_code="119300", name_hi="बिजरौल"),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def in_language(client, language):
    client.post(f"/language/{language}")


def text_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_an_officer_has_one_name_per_reader():
    officer = Officer(name="Ramesh Kumar", name_hi="रमेश कुमार")
    assert officer.display_name("hi") == "रमेश कुमार"
    assert officer.display_name("en") == "Ramesh Kumar"
    assert Officer(name="Vijay Pal", name_hi="").display_name("hi") == "Vijay Pal"


def test_the_account_bar_names_the_officer_in_the_readers_language(client, login_as, world):
    login_as(world["constable"])
    assert "Ramesh Kumar" in text_of(client, "/")
    in_language(client, "hi")
    home = text_of(client, "/")
    assert "रमेश कुमार" in home and "Ramesh Kumar" not in home


def test_an_officer_without_a_hindi_name_keeps_their_name_on_hindi_pages(client, login_as, world):
    login_as(world["sho"])
    in_language(client, "hi")
    assert "Vijay Pal" in text_of(client, "/")


def test_decided_by_and_enrolled_by_are_in_the_readers_language(db, client, login_as, world):
    contact = roster.enrol(
        principal(world["constable"]),
        world["place"],
        roster.ContactDetails(
            name="Ram Kishore", mobile="9876543210", category="teacher", consent_on=date(2026, 1, 1)
        ),
    )
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    db.session.commit()
    login_as(world["sho"])
    in_language(client, "hi")
    page = text_of(client, f"/roster/contacts/{contact.id}")
    assert "अनीता सिंह" in page and "रमेश कुमार" in page
    assert "Anita Singh" not in page
    in_language(client, "en")
    assert "Anita Singh" in text_of(client, f"/roster/contacts/{contact.id}")


def test_the_already_decided_message_names_the_officer_in_hindi(
    db, client, login_as, world, make_officer
):
    second_asp = make_officer("asp", world["district"], name="Second ASP")
    contact = roster.enrol(
        principal(world["constable"]),
        world["place"],
        roster.ContactDetails(
            name="Ram Kishore", mobile="9876543210", category="teacher", consent_on=date(2026, 1, 1)
        ),
    )
    seen = contact.version
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, seen, "approve")
    db.session.commit()
    login_as(second_asp)
    in_language(client, "hi")
    response = client.post(
        f"/enrolments/{contact.id}/approve", data={"version": seen}, follow_redirects=True
    )
    assert "अनीता सिंह" in response.get_data(as_text=True)


def test_the_incident_timeline_says_by_whom_in_hindi(db, client, login_as, world):
    incident = incidents.create_incident(
        principal(world["constable"]),
        [world["place"]],
        "rumour",
        "high",
        datetime(2026, 11, 20, 4, tzinfo=UTC),
        datetime(2026, 11, 20, 5, tzinfo=UTC),
        "up112_call",
        "Rumour",
    )
    incidents.claim(principal(world["constable"]), incident.id)
    db.session.commit()
    login_as(world["sho"])
    in_language(client, "hi")
    page = text_of(client, f"/incidents/{incident.id}")
    assert "रमेश कुमार" in page and "Ramesh Kumar" not in page
    report = text_of(client, f"/incidents/{incident.id}/report")
    assert "रमेश कुमार" in report


def test_the_audit_pages_name_the_officer_beside_the_pno(db, client, login_as, world):
    login_as(world["constable"])
    text_of(client, f"/roster/places/{world['place'].id}")  # a roster view is audited
    login_as(world["sp"])
    in_language(client, "hi")
    listing = text_of(client, "/audit/")
    assert world["constable"].pno in listing and "रमेश कुमार" in listing
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.officer_id == world["constable"].id)
    )
    detail = text_of(client, f"/audit/{event.id}")
    assert "रमेश कुमार" in detail


def test_an_administrator_registers_an_officer_with_a_hindi_name_and_finds_them_by_it(
    db, client, login_as, world
):
    login_as(world["sp"])
    response = client.post(
        "/admin/officers/new",
        data={
            "pno": "124009999",
            "name": "Pooja Rana",
            "name_hi": "पूजा राणा",
            "unit": str(world["district"].id),
        },
    )
    assert response.status_code == 302
    officer = db.session.scalar(select(Officer).where(Officer.pno == "124009999"))
    assert officer.name_hi == "पूजा राणा"
    found = text_of(client, "/admin/officers?q=पूजा")
    assert "124009999" in found


def test_an_administrator_adds_the_hindi_name_of_an_existing_officer(db, client, login_as, world):
    officer = world["sho"]
    login_as(world["sp"])
    response = client.post(
        f"/admin/officers/{officer.id}/names", data={"name": "Vijay Pal", "name_hi": "विजय पाल"}
    )
    assert response.status_code == 302
    db.session.refresh(officer)
    assert officer.name_hi == "विजय पाल"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "admin.officer_renamed")
    )
    assert event.detail_data == {"pno": officer.pno, "changed": ["name_hi"]}
    in_language(client, "hi")
    assert "विजय पाल" in text_of(client, f"/admin/officers/{officer.id}")


def test_the_demo_officers_have_hindi_names():
    for spec in DEMO_POSTS:
        for pno, name, name_hi, _rank in spec.officers:
            assert name_hi and script_of(name_hi) == Script.DEVANAGARI, (pno, name)
