"""The village roster: cards with call links, coverage, pending apart, protected numbers and
reveals, the access log (one audit event per view), confidential contacts and scope (404)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services import roster

BIJROL_NUMBERS = ("+919876543210", "+918765432109")


@pytest.fixture
def world(make_district, make_station, make_place, make_unit, make_officer, state):
    """Baghpat (Baraut circle: Baraut and Binauli stations) and Meerut (Kithaur), one village each,
    and one officer for every post that matters here."""
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    meerut = make_district("Meerut", code="135")
    circle = make_unit("circle", "Baraut circle", baghpat)
    baraut = make_station(baghpat, "Baraut", circle=circle)
    binauli = make_station(baghpat, "Binauli", circle=circle)
    kithaur = make_station(meerut, "Kithaur")
    return {
        "bijrol": make_place("BIJROL", station=baraut, name_hi="बिजरौल", lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=binauli, lgd_code="119301"),
        "kithaur_village": make_place("KITHAUR", station=kithaur, lgd_code="120001"),
        "constable": make_officer("constable", baraut),
        "sho": make_officer("station_officer", baraut),
        "constable_binauli": make_officer("constable", binauli),
        "co": make_officer("circle_officer", circle),
        "asp": make_officer("asp", baghpat),
        "sp": make_officer("sp_office", baghpat),
        "asp_meerut": make_officer("asp", meerut),
        "control_room": make_officer("control_room", state),
    }


@pytest.fixture
def add_contact(db):
    counter = {"n": 0}

    def add(place, mobile=None, status=ContactStatus.ACTIVE, name=None, **fields):
        counter["n"] += 1
        contact = Contact(
            place=place,
            unit_path=place.unit_path,
            status=status,
            name=name or f"Ram Kishore {counter['n']}",
            name_script=Script.LATIN,
            name_other=fields.pop("name_other", f"राम किशोर {counter['n']}"),
            mobile=mobile or f"+9197{counter['n']:08d}",
            category=fields.pop("category", ContactCategory.TEACHER),
            **fields,
        )
        db.session.add(contact)
        db.session.flush()
        return contact

    return add


@pytest.fixture
def bijrol_roster(world, add_contact, db):
    """Two active contacts (one on WhatsApp) and one pending enrolment in Bijrol."""
    first = add_contact(
        world["bijrol"], BIJROL_NUMBERS[0], whatsapp=True, mobile_alt="+917654321098"
    )
    second = add_contact(world["bijrol"], BIJROL_NUMBERS[1])
    pending = add_contact(
        world["bijrol"], "+916543210987", status=ContactStatus.PENDING, name="Sita Devi"
    )
    db.session.commit()
    return {"first": first, "second": second, "pending": pending}


def count_events(db, action):
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def events(db, action):
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def page_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def village_url(world):
    return f"/roster/places/{world['bijrol'].id}"


# ---- the village page -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["constable", "sho"])
def test_station_post_sees_full_numbers_with_call_and_whatsapp_links(
    client, login_as, world, bijrol_roster, who
):
    login_as(world[who])
    page = page_of(client, village_url(world))
    assert 'href="tel:+919876543210"' in page
    assert 'href="https://wa.me/919876543210"' in page
    assert 'href="tel:+918765432109"' in page
    assert "https://wa.me/918765432109" not in page  # not on WhatsApp
    assert 'href="tel:+917654321098"' in page  # the alternate number
    assert "+91 98765 43210" in page  # shown grouped for reading aloud
    assert "******" not in page


@pytest.mark.parametrize("who", ["asp", "sp", "control_room", "co"])
def test_posts_above_the_station_see_masked_numbers_and_no_call_links(
    client, login_as, world, bijrol_roster, who
):
    login_as(world[who])
    page = page_of(client, village_url(world))
    assert "+91 ******3210" in page and "+91 ******2109" in page
    assert "tel:" not in page and "wa.me" not in page
    assert "9876543210" not in page
    assert "Show full numbers of this village" in page


def test_the_page_shows_category_coverage_and_verification(
    client, login_as, world, bijrol_roster, db, app
):
    bijrol_roster["first"].last_verified_at = roster.now().replace(
        year=2025, month=3, day=4, hour=20
    )
    db.session.commit()
    login_as(world["constable"])
    page = page_of(client, village_url(world))
    assert "Teacher" in page
    assert "2 of 10" in page and "below target" in page
    assert "Verified 5 Mar 2025" in page  # 20:00 UTC is the next morning in IST
    assert "Not yet verified" in page

    app.config["COVERAGE_TARGET"] = 2
    assert "2 of 2" in page_of(client, village_url(world))


def test_pending_enrolments_are_listed_apart_for_station_staff_and_the_asp(
    client, login_as, world, bijrol_roster
):
    for who in ("constable", "asp"):
        login_as(world[who])
        page = page_of(client, village_url(world))
        active, _, pending = page.partition('id="active-heading"')[2].partition(
            'id="pending-heading"'
        )
        assert "Sita Devi" in pending and "Sita Devi" not in active, who


@pytest.mark.parametrize("who", ["co", "control_room"])
def test_readers_who_neither_enrol_nor_approve_do_not_see_pending_enrolments(
    client, login_as, world, bijrol_roster, who
):
    login_as(world[who])
    assert "Sita Devi" not in page_of(client, village_url(world))


def test_names_follow_the_readers_language(client, login_as, world, bijrol_roster):
    login_as(world["constable"])
    english = page_of(client, village_url(world))
    assert english.index("Ram Kishore 1") < english.index("राम किशोर 1")
    client.post("/language/hi", data={"next": "/"})
    hindi = page_of(client, village_url(world))
    assert hindi.index("राम किशोर 1") < hindi.index("Ram Kishore 1")
    assert "शिक्षक" in hindi or "अध्यापक" in hindi


def test_enrol_button_only_for_posts_that_enrol(client, login_as, world, bijrol_roster):
    enrol_link = f"/roster/places/{world['bijrol'].id}/enrol"
    login_as(world["constable"])
    assert enrol_link in page_of(client, village_url(world))
    login_as(world["asp"])
    assert enrol_link not in page_of(client, village_url(world))


def test_the_place_page_links_to_the_roster(client, login_as, world):
    login_as(world["constable"])
    assert f'href="/roster/places/{world["bijrol"].id}"' in page_of(
        client, f"/geo/places/{world['bijrol'].id}"
    )


# ---- the access log ---------------------------------------------------------------------------


def test_each_roster_view_writes_exactly_one_audit_event(
    client, login_as, world, bijrol_roster, db
):
    login_as(world["constable"])
    page_of(client, village_url(world))
    assert count_events(db, "roster.viewed") == 1
    page_of(client, village_url(world))
    assert count_events(db, "roster.viewed") == 2
    event = events(db, "roster.viewed")[-1]
    assert (event.target_type, event.target_id) == ("places", world["bijrol"].id)
    assert event.officer_id == world["constable"].id
    assert event.detail_data == {"shown": 3, "active": 2, "pending": 1, "full_numbers": 3}


def test_a_masked_view_is_logged_with_no_full_numbers(client, login_as, world, bijrol_roster, db):
    login_as(world["co"])
    page_of(client, village_url(world))
    assert events(db, "roster.viewed")[-1].detail_data == {
        "shown": 2,
        "active": 2,
        "pending": 0,
        "full_numbers": 0,
    }


def test_opening_a_contact_is_logged_too(client, login_as, world, bijrol_roster, db):
    login_as(world["constable"])
    page_of(client, f"/roster/contacts/{bijrol_roster['first'].id}")
    assert count_events(db, "roster.contact_viewed") == 1
    assert count_events(db, "roster.viewed") == 0


# ---- reveals ----------------------------------------------------------------------------------


def reveal_village(client, world, reason="rumour", note=""):
    return client.post(
        f"/roster/places/{world['bijrol'].id}/reveal", data={"reason": reason, "note": note}
    )


@pytest.mark.parametrize("who", ["asp", "sp", "control_room", "co"])
def test_revealing_a_village_shows_its_numbers_and_call_links(
    client, login_as, world, bijrol_roster, db, who
):
    login_as(world[who])
    response = reveal_village(client, world, "incident")
    assert response.status_code == 302 and response.location.endswith(village_url(world))
    page = page_of(client, village_url(world))
    assert 'href="tel:+919876543210"' in page and 'href="https://wa.me/919876543210"' in page
    assert "******" not in page


def test_each_reveal_writes_exactly_one_audit_event_without_numbers(
    client, login_as, world, bijrol_roster, db
):
    login_as(world["asp"])
    reveal_village(client, world, "other", "Call me on 98765 43210 about the fair")
    assert count_events(db, "roster.revealed") == 1
    event = events(db, "roster.revealed")[0]
    assert (event.target_type, event.target_id) == ("places", world["bijrol"].id)
    assert (
        event.detail_data["reason"] == "other" and event.detail_data["contacts"] == 3
    )  # ASP sees pending
    assert "9876543210" not in event.detail and "about the fair" in event.detail_data["note"]
    assert count_events(db, "roster.viewed") == 0  # the redirect target has not been opened yet


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "", "note": ""}, "Choose why you need the numbers."),
        ({"reason": "other", "note": ""}, "Say why you need the numbers."),
        ({"reason": "gossip", "note": ""}, "Not a valid choice"),
        ({"reason": "rumour", "note": "x" * 301}, "300"),
    ],
)
def test_a_reveal_without_a_proper_reason_is_refused(
    client, login_as, world, bijrol_roster, db, data, message
):
    login_as(world["asp"])
    response = client.post(f"/roster/places/{world['bijrol'].id}/reveal", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_events(db, "roster.revealed") == 0
    assert "tel:" not in page_of(client, village_url(world))


def test_revealing_one_contact_shows_only_that_contact(client, login_as, world, bijrol_roster, db):
    login_as(world["asp"])
    first = bijrol_roster["first"]
    contact_page = page_of(client, f"/roster/contacts/{first.id}")
    assert "tel:" not in contact_page and "+91 ******3210" in contact_page
    response = client.post(f"/roster/contacts/{first.id}/reveal", data={"reason": "election"})
    assert response.status_code == 302
    event = events(db, "roster.revealed")[0]
    assert (event.target_type, event.target_id, event.detail_data["contacts"]) == (
        "contacts",
        first.id,
        1,
    )
    assert 'href="tel:+919876543210"' in page_of(client, f"/roster/contacts/{first.id}")
    village = page_of(client, village_url(world))
    assert 'href="tel:+919876543210"' in village
    assert "tel:+918765432109" not in village and "+91 ******2109" in village


def test_a_reveal_expires_after_reveal_minutes(client, login_as, world, bijrol_roster, monkeypatch):
    login_as(world["sp"])
    reveal_village(client, world)
    assert "tel:+919876543210" in page_of(client, village_url(world))
    real_now = roster.now
    monkeypatch.setattr(roster, "now", lambda: real_now() + timedelta(minutes=14))
    assert "tel:+919876543210" in page_of(client, village_url(world))
    monkeypatch.setattr(roster, "now", lambda: real_now() + timedelta(minutes=16))
    page = page_of(client, village_url(world))
    assert "tel:" not in page and "+91 ******3210" in page


def test_reveal_minutes_comes_from_the_configuration(
    client, login_as, world, bijrol_roster, monkeypatch, app
):
    app.config["REVEAL_MINUTES"] = 2
    login_as(world["sp"])
    reveal_village(client, world)
    real_now = roster.now
    monkeypatch.setattr(roster, "now", lambda: real_now() + timedelta(minutes=3))
    assert "tel:" not in page_of(client, village_url(world))


def test_a_reveal_belongs_to_the_post_and_the_session_that_made_it(
    client, login_as, world, bijrol_roster
):
    login_as(world["asp"])
    reveal_village(client, world)
    login_as(world["sp"])  # another post in the same district
    assert "tel:" not in page_of(client, village_url(world))
    login_as(world["asp"])  # the same officer and post, signed in afresh
    assert "tel:" not in page_of(client, village_url(world))


# ---- confidential contacts --------------------------------------------------------------------


@pytest.fixture
def confidential(world, add_contact, db):
    contact = add_contact(world["bijrol"], "+919999912345", name="Gupt Soochak", confidential=True)
    db.session.commit()
    return contact


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("constable", False),
        ("sho", False),
        ("co", False),
        ("asp", True),
        ("sp", True),
        ("control_room", True),
    ],
)
def test_confidential_contacts_are_shown_only_from_the_asp_upwards(
    client, login_as, world, confidential, who, sees
):
    login_as(world[who])
    assert ("Gupt Soochak" in page_of(client, village_url(world))) is sees
    assert client.get(f"/roster/contacts/{confidential.id}").status_code == (200 if sees else 404)


# ---- the contact page -------------------------------------------------------------------------


def test_the_contact_page_shows_status_consent_and_enrolment(
    client, login_as, world, add_contact, db
):
    from datetime import date

    contact = add_contact(
        world["bijrol"],
        "+919876543210",
        status=ContactStatus.PENDING,
        address="Near the temple",
        notes="Runs the ration shop",
        consent_on=date(2025, 3, 1),
        consent_language="hi",
        consent_by_officer_id=world["constable"].id,
        enrolled_by_officer_id=world["constable"].id,
        enrolled_by_post_id=world["constable"].test_post.id,
    )
    db.session.commit()
    login_as(world["sho"])
    page = page_of(client, f"/roster/contacts/{contact.id}")
    for text in (
        "Pending approval",
        "Near the temple",
        "Runs the ration shop",
        "1 Mar 2025",
        "Hindi",
        world["constable"].pno,
        "Teacher",
        'href="tel:+919876543210"',
    ):
        assert text in page, text


# ---- scope: out of jurisdiction is 404 ---------------------------------------------------------


@pytest.mark.parametrize("who", ["constable_binauli", "asp_meerut"])
def test_posts_outside_the_village_get_404_everywhere(
    client, login_as, world, bijrol_roster, db, who
):
    login_as(world[who])
    place_id, contact_id = world["bijrol"].id, bijrol_roster["first"].id
    assert client.get(f"/roster/places/{place_id}").status_code == 404
    assert client.get(f"/roster/contacts/{contact_id}").status_code == 404
    assert (
        client.post(f"/roster/places/{place_id}/reveal", data={"reason": "rumour"}).status_code
        == 404
    )
    assert (
        client.post(f"/roster/contacts/{contact_id}/reveal", data={"reason": "rumour"}).status_code
        == 404
    )
    assert count_events(db, "roster.revealed") == 0 and count_events(db, "roster.viewed") == 0


def test_a_constable_of_another_station_gets_404_on_enrol(client, login_as, world):
    login_as(world["constable_binauli"])
    assert client.get(f"/roster/places/{world['bijrol'].id}/enrol").status_code == 404
    assert (
        client.post(f"/roster/places/{world['bijrol'].id}/enrol", data={"name": "X"}).status_code
        == 404
    )


# (post, place, can open the roster?)
SCOPE_TABLE = [
    ("constable", "bijrol", True),
    ("constable", "bamnauli", False),
    ("constable_binauli", "bamnauli", True),
    ("co", "bijrol", True),
    ("co", "bamnauli", True),
    ("co", "kithaur_village", False),
    ("asp", "bamnauli", True),
    ("asp", "kithaur_village", False),
    ("asp_meerut", "kithaur_village", True),
    ("asp_meerut", "bijrol", False),
    ("control_room", "kithaur_village", True),
]


@pytest.mark.parametrize(("who", "place", "allowed"), SCOPE_TABLE)
def test_roster_scope_truth_table(client, login_as, world, who, place, allowed):
    login_as(world[who])
    assert client.get(f"/roster/places/{world[place].id}").status_code == (200 if allowed else 404)


def test_the_state_administrator_cannot_read_rosters(client, login_as, world, make_officer, state):
    login_as(make_officer("state_admin", state))
    assert client.get(village_url(world)).status_code == 403


def test_the_asp_marks_a_contact_confidential_and_the_station_no_longer_sees_it(
    client, db, make_district, make_station, make_place, make_officer, login_as
):
    from cplan.models import AuditEvent, Contact, ContactCategory, ContactStatus, Script

    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    place = make_place("BIJROL", station=station, lgd_code="119300")
    contact = Contact(
        place=place,
        unit_path=place.unit_path,
        name="Source One",
        name_script=Script.LATIN,
        mobile="+919876543210",
        category=ContactCategory.OTHER,
        status=ContactStatus.ACTIVE,
    )
    db.session.add(contact)
    constable = make_officer("constable", station)
    asp = make_officer("asp", district)
    login_as(asp)
    response = client.post(
        f"/roster/contacts/{contact.id}/confidential", data={"confidential": "1"}
    )
    assert response.status_code == 302
    assert db.session.get(Contact, contact.id).confidential
    assert db.session.query(AuditEvent).filter_by(action="roster.confidential_set").count() == 1
    login_as(constable)
    assert client.get(f"/roster/contacts/{contact.id}").status_code == 404
    assert (
        client.post(
            f"/roster/contacts/{contact.id}/confidential", data={"confidential": "0"}
        ).status_code
        == 403
    )
