"""The demo's next panchayat election: two phases over all 75 districts (Baghpat votes in the
first, three weeks from the day the demo is loaded, so the election is on), sensitive villages
of Baghpat at all three levels (most of them at Baraut, where the demo station officers work),
one graded polling booth, and two contacts marked as a candidate and a polling agent.

Everything goes through the services, as the state control room, the SP office and the SHO of
Baraut would do it, so the audit trail reads as in real use. Loaded once: a second run finds
the election and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cplan.extensions import db
from cplan.models.accounts import Officer
from cplan.models.elections import (
    Election,
    ElectionAuthority,
    ElectionKind,
    ElectionRole,
    SensitivityLevel,
)
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import Contact, ContactStatus
from cplan.services import election_marks, elections, sensitive_places
from cplan.services.principal import Principal

DEMO_ELECTION = "UP gram panchayat elections (demo)"
CONTROL_ROOM_PNO = "100000003"  # DGP control room supervisor
SP_OFFICE_PNO = "124000001"
SHO_BARAUT_PNO = "124000004"
NOTIFIED_DAYS_AGO = 10
FIRST_POLL_IN_DAYS = 21
SECOND_POLL_IN_DAYS = 25

# (level, how many villages, reasons, note) graded in Baghpat, most sensitive first.
GRADES = (
    (
        SensitivityLevel.HYPER_SENSITIVE_PLUS,
        3,
        ("past_poll_violence", "earlier_repoll"),
        "Firing at the booth in the last panchayat poll; repoll held.",
    ),
    (
        SensitivityLevel.HYPER_SENSITIVE,
        7,
        ("caste_tension", "candidate_criminal_record"),
        "Two pradhan candidates from rival groups.",
    ),
    (
        SensitivityLevel.SENSITIVE,
        14,
        ("communal_tension",),
        "Dispute over a procession route last year.",
    ),
)


def _principal(pno: str) -> Principal | None:
    officer = db.session.scalar(select(Officer).where(Officer.pno == pno))
    if officer is None or not officer.assignments:
        return None
    return Principal(officer=officer, post=officer.assignments[0].post, session=None)


def ensure_demo_election(state: Unit, district: Unit) -> list[str]:
    """Create the demo election, grades and marks unless the election exists."""
    if db.session.scalar(select(Election.id).where(Election.name_en == DEMO_ELECTION)):
        return []
    control_room = _principal(CONTROL_ROOM_PNO)
    sp_office = _principal(SP_OFFICE_PNO)
    sho = _principal(SHO_BARAUT_PNO)
    if control_room is None or sp_office is None or sho is None:
        return ["election: skipped (no demo posts)"]
    today = elections.today()
    districts = list(
        db.session.scalars(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT).order_by(Unit.name_en)
        )
    )
    # Western UP (Baghpat's half of the list, by name) votes first.
    half = len(districts) // 2
    first = districts[:half] + ([] if district in districts[:half] else [district])
    second = [d for d in districts if d not in first]
    election = elections.create_election(
        control_room,
        kind=ElectionKind.GRAM_PANCHAYAT,
        authority=ElectionAuthority.STATE_ELECTION_COMMISSION,
        name_en=DEMO_ELECTION,
        name_hi="उत्तर प्रदेश ग्राम पंचायत चुनाव (डेमो)",
        notified_on=today - timedelta(days=NOTIFIED_DAYS_AGO),
        phases=[
            elections.PhasePlan(1, today + timedelta(days=FIRST_POLL_IN_DAYS), first),
            elections.PhasePlan(2, today + timedelta(days=SECOND_POLL_IN_DAYS), second),
        ],
    )
    graded = _grade_villages(sp_office, election, district, sho.unit)
    marked = _mark_contacts(sho, election)
    return [
        f"election: {DEMO_ELECTION}, phase 1 ({len(first)} districts) in {FIRST_POLL_IN_DAYS} "
        f"days, phase 2 ({len(second)}) in {SECOND_POLL_IN_DAYS}; {graded} sensitive places "
        f"in {district.name_en}; {marked} contacts marked"
    ]


def _grade_villages(sp_office: Principal, election: Election, district: Unit, baraut: Unit):
    """Grade villages with active contacts, Baraut's first (the demo officers' station)."""
    with_contacts = select(Contact.place_id).where(Contact.status == ContactStatus.ACTIVE)
    places = list(
        db.session.scalars(
            select(Place)
            .where(
                Place.district_id == district.id,
                Place.station_id.is_not(None),
                Place.uninhabited.is_(False),
                Place.id.in_(with_contacts),
            )
            .order_by(Place.natural_key)
        )
    )
    places.sort(key=lambda place: place.station_id != baraut.id)
    # Every third place, so the grades spread over the station's villages.
    chosen = iter(places[::3] + [p for i, p in enumerate(places) if i % 3])
    graded = 0
    for level, count, reasons, note in GRADES:
        for _ in range(count):
            place = next(chosen, None)
            if place is None:
                return graded
            sensitive_places.set_grade(
                sp_office, election, place, level=level, reasons=list(reasons), note=note
            )
            graded += 1
    # One polling booth of a sensitive village graded higher than its village.
    place = next(chosen, None)
    if place is not None:
        sensitive_places.set_grade(
            sp_office,
            election,
            place,
            level=SensitivityLevel.HYPER_SENSITIVE,
            reasons=["booth_capturing"],
            booth="Primary school, booth 2",
            reference="SP/BGT/ELN/2026/17",
        )
        graded += 1
    return graded


def _mark_contacts(sho: Principal, election: Election) -> int:
    """A candidate and a polling agent among the Baraut station's contacts."""
    contacts = list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.status == ContactStatus.ACTIVE,
                Contact.confidential.is_(False),
                sho.unit.covers(Contact.unit_path),
            )
            .order_by(Contact.id)
            .limit(2)
        )
    )
    for contact, role, note in zip(
        contacts,
        (ElectionRole.CANDIDATE, ElectionRole.POLLING_AGENT),
        ("Filed nomination for pradhan.", "Agent of a pradhan candidate."),
        strict=False,
    ):
        election_marks.mark_contact(sho, contact, role, note, election=election)
    return len(contacts)
