"""Each place keeps its count of active contacts (and of confidential ones) through every way a
contact changes: the database triggers behind the coverage pages, checked against a recount."""

from datetime import date

import pytest
from sqlalchemy import case, func, select, update

from cplan.models import Contact, ContactStatus, InactiveReason, Place, contact_counts
from cplan.services import coverage, enrolment, geo, roster
from cplan.services.principal import Principal


@pytest.fixture
def world(make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    return {
        "district": district,
        "station": station,
        "bijrol": make_place("BIJROL", station=station, lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=station, lgd_code="119301"),
        "constable": make_officer("constable", station),
        "asp": make_officer("asp", district),
    }


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def enrol(world, place="bijrol", mobile="98765 43210"):
    details = roster.ContactDetails(
        name="Ram Kishore", mobile=mobile, category="teacher", consent_on=date(2026, 11, 1)
    )
    return roster.enrol(principal(world["constable"]), world[place], details)


def approve(world, contact):
    return enrolment.decide_enrolment(
        principal(world["asp"]), contact.id, contact.version, "approve"
    )


def kept(db, place) -> tuple[int, int]:
    """The counts the place keeps, read from the database (not from the session's copy)."""
    row = db.session.execute(
        select(Place.active_contacts, Place.active_confidential).where(Place.id == place.id)
    ).one()
    return tuple(row)


def counted(db, place) -> tuple[int, int]:
    """The same counts, counted from the contacts."""
    active = Contact.status == ContactStatus.ACTIVE
    row = db.session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((Contact.confidential, 1), else_=0)), 0)
        ).where(Contact.place_id == place.id, active)
    ).one()
    return tuple(row)


def test_counts_follow_enrolment_approval_confidentiality_move_removal_and_erasure(db, world):
    bijrol, bamnauli = world["bijrol"], world["bamnauli"]
    first = enrol(world)
    second = enrol(world, mobile="98765 43211")
    assert kept(db, bijrol) == (0, 0)  # pending contacts are not in the roster yet
    approve(world, first)
    approve(world, second)
    assert kept(db, bijrol) == (2, 0)

    roster.set_confidential(principal(world["asp"]), first, True)
    db.session.flush()
    assert kept(db, bijrol) == (2, 1)

    proposal = enrolment.propose_move(principal(world["constable"]), second.id, bamnauli)
    enrolment.decide_proposal(principal(world["asp"]), proposal.id, proposal.version, "approve")
    assert (kept(db, bijrol), kept(db, bamnauli)) == ((1, 1), (1, 0))

    proposal = enrolment.propose_removal(
        principal(world["constable"]), second.id, InactiveReason.MOVED, "moved to Delhi"
    )
    enrolment.decide_proposal(principal(world["asp"]), proposal.id, proposal.version, "approve")
    assert kept(db, bamnauli) == (0, 0)

    enrolment.erase(principal(world["asp"]), first.id, "asked in writing")
    db.session.commit()
    assert [kept(db, place) for place in (bijrol, bamnauli)] == [
        counted(db, place) for place in (bijrol, bamnauli)
    ]


def test_counts_follow_plain_sql_updates_deletes_and_a_rejection(db, world):
    bijrol = world["bijrol"]
    rejected = enrol(world, mobile="98765 43212")
    enrolment.decide_enrolment(
        principal(world["asp"]),
        rejected.id,
        rejected.version,
        "reject",
        reason="not_suitable",
        note="",
    )
    contacts = [approve(world, enrol(world, mobile=f"98765 4330{n}")) for n in range(3)]
    assert kept(db, bijrol) == (3, 0)
    # A bulk change from a shell or a script, bypassing the application.
    db.session.execute(
        update(Contact)
        .where(Contact.id.in_([c.id for c in contacts[:2]]))
        .values(confidential=True)
        .execution_options(synchronize_session=False)
    )
    assert kept(db, bijrol) == (3, 2)
    db.session.execute(
        update(Contact)
        .where(Contact.id == contacts[0].id)
        .values(status=ContactStatus.INACTIVE)
        .execution_options(synchronize_session=False)
    )
    assert kept(db, bijrol) == (2, 1)
    db.session.execute(Contact.__table__.delete().where(Contact.__table__.c.id == contacts[1].id))
    assert kept(db, bijrol) == (1, 0) == counted(db, bijrol)


def test_a_place_handed_to_another_station_keeps_its_counts(db, world, make_station):
    contact = approve(world, enrol(world))
    new_station = make_station(world["district"], "Baraut Dehat")
    geo.reassign_place(world["bijrol"], new_station, "new thana carved out")
    assert kept(db, world["bijrol"]) == (1, 0)
    assert (
        db.session.scalar(select(Contact.unit_path).where(Contact.id == contact.id))
        == new_station.path
    )


def test_recount_repairs_counts_and_coverage_reads_them(db, world):
    for n in range(3):
        approve(world, enrol(world, mobile=f"98765 4340{n}"))
    db.session.execute(update(Place).values(active_contacts=0, active_confidential=0))
    asp = principal(world["asp"])
    assert (
        coverage.coverage_of(asp, world["station"]).totals.active == 0
    )  # the figures come from the counts
    contact_counts.recount(db.session.connection())
    assert kept(db, world["bijrol"]) == (3, 0)
    assert coverage.coverage_of(asp, world["station"]).totals.active == 3
