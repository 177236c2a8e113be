"""Enrolling a contact: number formats and refusals, the pending state, the duplicate-number
warning, errors beside their fields, and who may enrol where."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services import roster
from cplan.services.phone import InvalidMobile, normalise_mobile
from cplan.services.roster import ContactDetails, RosterError

# ---- numbers ------------------------------------------------------------------------------------


@pytest.fixture
def in_request(app):
    """Messages are translated for a request's language: give the unit tests one (English)."""
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    "typed",
    [
        "98765 43210",
        "098765-43210",
        "+91 9876543210",
        "919876543210",
        "९८७६५४३२१०",
        "9876543210",
        " +91-98765-43210 ",
    ],
)
def test_every_accepted_format_becomes_e164(in_request, typed):
    details = ContactDetails(
        name="Ram Kishore", mobile=typed, category="teacher", consent_on=date(2025, 1, 1)
    )
    assert roster.clean(details).mobile == "+919876543210"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0121 2345678", "That looks like a landline number (STD code); enter a mobile number."),
        ("987654321", "An Indian mobile number has ten digits."),
        ("5876543210", "An Indian mobile number starts with 6, 7, 8 or 9."),
        ("+1 415 555 0100", "Only Indian numbers (+91) can be used."),
        (
            "98765abcde",
            "A mobile number may contain only digits, spaces, dashes and a leading +91.",
        ),
        ("", "Enter a mobile number."),
    ],
)
def test_each_rejected_number_says_why(in_request, typed, message):
    details = ContactDetails(
        name="Ram Kishore", mobile=typed, category="teacher", consent_on=date(2025, 1, 1)
    )
    with pytest.raises(RosterError) as refused:
        roster.clean(details)
    assert (str(refused.value), refused.value.field) == (message, "mobile")


def test_devanagari_digits_are_accepted_only_where_the_caller_allows_them(in_request):
    with pytest.raises(InvalidMobile):
        normalise_mobile("९८७६५४३२१०")
    assert normalise_mobile("९८७६५४३२१०", allow_devanagari_digits=True) == "+919876543210"


def test_the_other_script_is_transliterated_when_left_empty(in_request):
    details = ContactDetails(
        name="राम किशोर", mobile="9876543210", category="teacher", consent_on=date(2025, 1, 1)
    )
    clean = roster.clean(details)
    assert clean.name_script == Script.DEVANAGARI and clean.name_other_generated
    assert clean.name_other.lower().startswith("ram")


# ---- the enrol page
# -------------------------------------------------------------------------------


@pytest.fixture
def world(make_district, make_station, make_place, make_unit, make_officer):
    baghpat = make_district("Baghpat", code="124")
    circle = make_unit("circle", "Baraut circle", baghpat)
    baraut = make_station(baghpat, "Baraut", circle=circle)
    binauli = make_station(baghpat, "Binauli", circle=circle)
    return {
        "bijrol": make_place("BIJROL", station=baraut, lgd_code="119300"),
        "river_bed": make_place("KHADAR", station=baraut, lgd_code="119399", uninhabited=True),
        "bamnauli": make_place("BAMNAULI", station=binauli, lgd_code="119301"),
        "constable": make_officer("constable", baraut),
        "constable_binauli": make_officer("constable", binauli),
        "asp": make_officer("asp", baghpat),
    }


def form_data(**changes):
    data = {
        "name": "Ram Kishore Sharma",
        "name_other": "",
        "mobile": "98765 43210",
        "mobile_alt": "",
        "whatsapp": "y",
        "category": "teacher",
        "gender": "male",
        "address": "Near the school",
        "notes": "",
        "consent_on": date.today().isoformat(),
        "consent_language": "hi",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def enrol_url(place):
    return f"/roster/places/{place.id}/enrol"


def contacts(db):
    return list(db.session.scalars(select(Contact).order_by(Contact.id)))


def count_events(db, action):
    return db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    )


def test_the_form_is_phone_friendly(client, login_as, world):
    login_as(world["constable"])
    page = client.get(enrol_url(world["bijrol"])).get_data(as_text=True)
    assert 'inputmode="tel"' in page and 'type="tel"' in page
    assert "Check spelling" in page  # the computer's spelling of the other-script name, on request
    assert f'value="{date.today().isoformat()}"' in page or "consent_on" in page
    assert 'name="confidential"' not in page  # station posts cannot mark a contact confidential


def test_an_enrolment_enters_as_pending_and_is_not_in_the_active_list(client, login_as, world, db):
    login_as(world["constable"])
    response = client.post(enrol_url(world["bijrol"]), data=form_data())
    assert response.status_code == 302 and response.location.endswith(
        f"/roster/places/{world['bijrol'].id}"
    )
    [contact] = contacts(db)
    assert contact.status == ContactStatus.PENDING
    assert (contact.mobile, contact.whatsapp, contact.category) == (
        "+919876543210",
        True,
        ContactCategory.TEACHER,
    )
    assert contact.enrolled_by_officer_id == world["constable"].id
    assert (
        contact.consent_by_officer_id == world["constable"].id and contact.consent_language == "hi"
    )
    assert count_events(db, "roster.contact_enrolled") == 1

    page = client.get(response.location).get_data(as_text=True)
    assert "enrolled and waits for approval" in page
    active, _, pending = page.partition('id="active-heading"')[2].partition('id="pending-heading"')
    assert "Ram Kishore Sharma" in pending and "Ram Kishore Sharma" not in active
    assert "0 of 10" in page


def test_the_duplicate_warning_appears_and_needs_confirmation(client, login_as, world, db):
    login_as(world["constable"])
    client.post(enrol_url(world["bijrol"]), data=form_data())
    [first] = contacts(db)

    again = client.post(
        enrol_url(world["bijrol"]), data=form_data(name="Shyam Lal", mobile="+91 98765-43210")
    )
    page = again.get_data(as_text=True)
    assert again.status_code == 400
    assert (
        "This number already belongs to" in page and f'href="/roster/contacts/{first.id}"' in page
    )
    assert 'name="confirm_duplicate"' in page
    assert len(contacts(db)) == 1

    # Submitting the same form again without ticking the box still saves nothing.
    assert (
        client.post(enrol_url(world["bijrol"]), data=form_data(name="Shyam Lal")).status_code == 400
    )
    assert len(contacts(db)) == 1

    confirmed = client.post(
        enrol_url(world["bijrol"]), data=form_data(name="Shyam Lal", confirm_duplicate="y")
    )
    assert confirmed.status_code == 302
    assert [contact.name for contact in contacts(db)] == ["Ram Kishore Sharma", "Shyam Lal"]


def test_the_alternate_number_is_checked_for_duplicates_too(client, login_as, world, db):
    login_as(world["constable"])
    client.post(enrol_url(world["bijrol"]), data=form_data())
    page = client.post(
        enrol_url(world["bijrol"]),
        data=form_data(name="Shyam Lal", mobile="9123456780", mobile_alt="9876543210"),
    )
    assert "This number already belongs to" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mobile": "5876543210"}, "mobile", "starts with 6, 7, 8 or 9"),
        ({"mobile_alt": "12345"}, "mobile_alt", "ten digits"),
        ({"mobile_alt": "09876543210"}, "mobile_alt", "same as the mobile number"),
        ({"name": "R"}, "name", "Enter the contact"),
        ({"name": ""}, "name", "Enter the contact"),
        ({"category": "caste_leader"}, "category", "Not a valid choice"),
        (
            {"consent_on": (date.today() + timedelta(days=2)).isoformat()},
            "consent_on",
            "cannot be in the future",
        ),
    ],
)
def test_errors_appear_beside_their_field_and_nothing_is_saved(
    client, login_as, world, db, changes, field, message
):
    login_as(world["constable"])
    response = client.post(enrol_url(world["bijrol"]), data=form_data(**changes))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = page.split(f'id="{field}-error"', 1)
    assert len(errors) == 2, page
    assert message in errors[1].split("</ul>", 1)[0]
    assert contacts(db) == [] and count_events(db, "roster.contact_enrolled") == 0


def test_a_station_post_cannot_make_a_contact_confidential(client, login_as, world, db):
    login_as(world["constable"])
    client.post(enrol_url(world["bijrol"]), data=form_data(confidential="y"))
    assert contacts(db)[0].confidential is False


def test_an_uninhabited_place_refuses_enrolment(client, login_as, world, db):
    login_as(world["constable"])
    response = client.get(enrol_url(world["river_bed"]))
    assert response.status_code == 302
    assert client.post(enrol_url(world["river_bed"]), data=form_data()).status_code == 302
    assert contacts(db) == []
    with pytest.raises(RosterError):
        roster.enrol(
            login_as(world["constable"]),
            world["river_bed"],
            ContactDetails(
                name="Ram", mobile="9876543210", category="teacher", consent_on=date.today()
            ),
        )


def test_a_constable_cannot_enrol_in_another_stations_village(client, login_as, world, db):
    login_as(world["constable"])
    assert client.get(enrol_url(world["bamnauli"])).status_code == 404
    assert client.post(enrol_url(world["bamnauli"]), data=form_data()).status_code == 404
    assert contacts(db) == []


def test_posts_without_enrol_permission_are_refused(client, login_as, world):
    login_as(world["asp"])
    assert client.get(enrol_url(world["bijrol"])).status_code == 403


def test_a_constable_is_warned_when_the_number_is_enrolled_at_another_station_of_the_district(
    client, db, make_district, make_station, make_place, make_officer, login_as
):
    from datetime import date

    from cplan.models import Contact, ContactCategory, ContactStatus, Script

    district = make_district("Baghpat", code="124")
    baraut, khekada = make_station(district, "Baraut"), make_station(district, "Khekada")
    mine = make_place("BIJROL", station=baraut, lgd_code="119300")
    theirs = make_place("KHEKRA", station=khekada, lgd_code="119500")
    db.session.add(
        Contact(
            place=theirs,
            unit_path=theirs.unit_path,
            name="Ramesh",
            name_script=Script.LATIN,
            mobile="+919876543210",
            category=ContactCategory.TEACHER,
            status=ContactStatus.ACTIVE,
        )
    )
    login_as(make_officer("constable", baraut))
    form = {
        "name": "Ramesh Kumar",
        "mobile": "9876543210",
        "category": "teacher",
        "gender": "male",
        "consent_on": date.today().isoformat(),
        "consent_language": "hi",
    }
    response = client.post(f"/roster/places/{mine.id}/enrol", data=form)
    assert response.status_code == 400
    assert b"a contact of KHEKRA, Khekada police station" in response.data
    assert (
        b"/roster/contacts/" not in response.data
    )  # no link to a contact the constable cannot open
    assert db.session.query(Contact).count() == 1
    response = client.post(
        f"/roster/places/{mine.id}/enrol", data={**form, "confirm_duplicate": "y"}
    )
    assert response.status_code == 302
    assert db.session.query(Contact).count() == 2
