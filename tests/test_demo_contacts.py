"""Demo contacts for Baghpat: 6-14 per inhabited attached place, a realistic spread, fictional
numbers, deterministic and idempotent."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from cplan.devdata import demo, demo_contacts
from cplan.models.roster import Contact, ContactStatus, Script
from cplan.models.search import SearchToken
from cplan.services.phone import normalise_mobile


@pytest.fixture
def loaded(app, db):
    context = demo.load_demo()
    db.session.commit()
    return context


def test_demo_contacts_have_a_realistic_spread_and_reloading_adds_nothing(loaded, db):
    district = loaded.district
    places = demo_contacts.demo_places(district)
    counts = demo_contacts.contact_counts(district)
    totals = {place.id: sum(counts[place.id].values()) for place in places}
    assert set(counts) == {
        place.id for place in places
    }  # every inhabited attached place, nothing else
    assert all(6 <= total <= 14 for total in totals.values())
    active = [counts[place.id].get(ContactStatus.ACTIVE, 0) for place in places]
    below = sum(1 for number in active if number < 10)
    assert 0.15 * len(places) < below < 0.6 * len(places)  # some villages below the target of 10
    statuses = Counter(
        status for per_place in counts.values() for status, n in per_place.items() for _ in range(n)
    )
    assert statuses[ContactStatus.PENDING] > 100 and statuses[ContactStatus.INACTIVE] > 30
    assert statuses[ContactStatus.ACTIVE] > 0.8 * sum(statuses.values())

    contacts = db.session.scalars(select(Contact)).all()
    assert {c.name_script for c in contacts} == {Script.DEVANAGARI, Script.LATIN}
    assert all(c.name_other and c.consent_on and c.enrolled_by_officer_id for c in contacts)
    assert len({c.category for c in contacts}) == 15
    assert all(
        c.mobile.startswith("+9170000") and normalise_mobile(c.mobile) == c.mobile for c in contacts
    )
    repeated = db.session.execute(
        select(Contact.mobile)
        .group_by(Contact.mobile)
        .having(func.count(func.distinct(Contact.place_id)) > 1)
    ).all()
    assert 3 <= len(repeated) <= 40  # a few numbers recur across places
    # Indexed for search like any enrolled contact.
    indexed = db.session.scalar(
        select(func.count(func.distinct(SearchToken.record_id))).where(
            SearchToken.kind == "contact"
        )
    )
    assert indexed == len(contacts)
    # Baraut's contacts were enrolled by Baraut's demo staff.
    from cplan.models.accounts import Officer

    pnos = set(
        db.session.scalars(
            select(Officer.pno).join(Contact, Contact.enrolled_by_officer_id == Officer.id)
        )
    )
    assert {"124000004", "124000005", "124000006", "124000007"} <= pnos

    before = db.session.scalar(select(func.count(Contact.id)))
    assert demo_contacts.ensure_demo_contacts(district, loaded.data_dir) == []
    demo.load_demo()
    assert db.session.scalar(select(func.count(Contact.id))) == before


def test_demo_contacts_are_deterministic(loaded, db):
    district = loaded.district
    names = demo_contacts.read_names(loaded.data_dir / demo_contacts.NAMES_FILE)
    places = demo_contacts.demo_places(district)
    for index in (0, 17, len(places) - 1):
        place = places[index]
        planned = demo_contacts.plan_place(index, place, names, [], None)
        again = demo_contacts.plan_place(index, place, names, [], None)
        assert planned == again
        stored = db.session.execute(
            select(Contact.name, Contact.mobile, Contact.status)
            .where(Contact.place_id == place.id)
            .order_by(Contact.id)
        ).all()
        assert [(row["name"], row["mobile"], row["status"]) for row in planned] == [
            tuple(row) for row in stored
        ]
