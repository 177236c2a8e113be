"""Numbers on more than one contact: grouped by number within the scope, standing contacts
only (pending or active), mobile and alternate numbers alike, masked above the station."""

import pytest

from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.services import duplicates


@pytest.fixture
def add_contact(db):
    def add(
        place, mobile, mobile_alt=None, status=ContactStatus.ACTIVE, confidential=False, name=None
    ):
        contact = Contact(
            place_id=place.id,
            unit_path=place.unit_path,
            name=name or f"Person {mobile}",
            name_script=Script.LATIN,
            mobile=mobile,
            mobile_alt=mobile_alt,
            category=ContactCategory.OTHER,
            status=status,
            confidential=confidential,
        )
        db.session.add(contact)
        db.session.flush()
        return contact

    return add


@pytest.fixture
def fixture(make_district, make_station, make_place, add_contact, db):
    baghpat = make_district("Baghpat", code="124")
    baraut = make_station(baghpat, "Baraut")
    khekada = make_station(baghpat, "Khekada")
    bijrol = make_place("BIJROL", station=baraut)
    angadpur = make_place("ANGADPUR", station=baraut)
    khekra = make_place("KHEKRA", station=khekada)
    meerut_place = make_place(
        "DABTHALA", station=make_station(make_district("Meerut", code="131"), "Sardhana")
    )
    rows = {
        "baghpat": baghpat,
        "baraut": baraut,
        "khekada": khekada,
        # One number on three contacts of Baraut, once as an alternate number.
        "a1": add_contact(bijrol, "+919876543210", name="A One"),
        "a2": add_contact(angadpur, "+919876543210", name="A Two"),
        "a3": add_contact(angadpur, "+919811111111", mobile_alt="+919876543210", name="A Three"),
        # A number shared across two stations of the district.
        "b1": add_contact(bijrol, "+919822222222", name="B One"),
        "b2": add_contact(khekra, "+919822222222", name="B Two"),
        # Rejected and inactive contacts do not count.
        "c1": add_contact(bijrol, "+919833333333"),
        "c2": add_contact(bijrol, "+919833333333", status=ContactStatus.REJECTED),
        "c3": add_contact(bijrol, "+919833333333", status=ContactStatus.INACTIVE),
        # A pending one does.
        "d1": add_contact(bijrol, "+919844444444"),
        "d2": add_contact(angadpur, "+919844444444", status=ContactStatus.PENDING),
        # Confidential: counted for the ASP only.
        "e1": add_contact(bijrol, "+919855555555"),
        "e2": add_contact(bijrol, "+919855555555", confidential=True),
        # Another district.
        "f1": add_contact(meerut_place, "+919876543210"),
    }
    db.session.commit()
    return rows


@pytest.fixture
def reader(make_officer, login_as):
    def sign(role, unit):
        return login_as(make_officer(role, unit))

    return sign


def grouped(page):
    return {
        group.number: sorted(contact.name for contact in group.contacts) for group in page.items
    }


def test_numbers_are_grouped_within_a_station(fixture, reader):
    page = duplicates.duplicate_numbers(reader("station_officer", fixture["baraut"]))
    assert grouped(page) == {
        "+919876543210": ["A One", "A Three", "A Two"],
        "+919844444444": ["Person +919844444444"] * 2,
    }
    assert [group.number for group in page.items][0] == "+919876543210"  # most contacts first


def test_the_district_sees_numbers_shared_between_its_stations_and_confidential_ones(
    fixture, reader
):
    page = duplicates.duplicate_numbers(reader("asp", fixture["baghpat"]))
    assert set(grouped(page)) == {
        "+919876543210",
        "+919822222222",
        "+919844444444",
        "+919855555555",
    }
    assert len(grouped(page)["+919876543210"]) == 3  # Meerut's contact is not in scope
    assert page.total == 4


def test_duplicates_are_paginated(fixture, reader):
    asp = reader("asp", fixture["baghpat"])
    first = duplicates.duplicate_numbers(asp, page=1, per_page=3)
    second = duplicates.duplicate_numbers(asp, page=2, per_page=3)
    assert len(first.items) == 3 and len(second.items) == 1 and first.total == 4
    assert duplicates.duplicate_numbers(asp, per_page=10_000).per_page == 100


def test_the_page_masks_numbers_above_the_station_and_links_each_contact(client, fixture, reader):
    reader("asp", fixture["baghpat"])
    page = client.get("/coverage/duplicates").get_data(as_text=True)
    assert "+91 ******3210" in page and "+919876543210" not in page
    for name in ("a1", "a2", "a3", "b2"):
        assert f'href="/roster/contacts/{fixture[name].id}"' in page
    assert "as alternate number" in page


def test_station_posts_see_full_numbers(client, fixture, reader):
    reader("constable", fixture["baraut"])
    response = client.get("/coverage/duplicates")
    assert response.status_code == 200
    assert 'href="tel:+919876543210"' in response.get_data(as_text=True)
