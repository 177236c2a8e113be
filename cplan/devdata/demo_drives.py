"""Demo verification drive and coordination meetings in Baghpat.

The SP office opened a drive six days ago (for the district's election phase when the demo has
one, so villages are worked most sensitive first); Baraut and Khekada have been working it since:
confirmations by call, visit, SMS reply and at two coordination meetings, details changed (a
correction waits for the ASP), contacts no longer suitable (a removal waits), contacts
unreachable on three different days (flagged) and some tried once or twice. Everything goes
through the services with past times (``now=``), so the counters, the daily series and the
contacts' last-verified dates are what the app itself would have written. Deterministic and
idempotent: nothing is added when a drive covers the district. Flushes, never commits.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from cplan.extensions import db
from cplan.formats import ist_day
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.base import utcnow
from cplan.models.drives import VerificationDrive
from cplan.models.elections import ElectionPhase, PhaseDistrict
from cplan.models.geo import Unit, UnitKind
from cplan.models.roster import Contact
from cplan.services import drives, meetings, roster
from cplan.services.errors import DomainError
from cplan.services.principal import Principal

DAYS_OPEN = 6
# What each station's officers did, in order, for the station's next contacts. "unreachable3"
# is three attempts on three different days; "tried1"/"tried2" leave the task pending.
STATION_PLANS = {
    "Baraut": (
        ["confirmed"] * 14
        + ["changed", "unsuitable", "unreachable3", "tried1", "tried2"]
        + ["confirmed:visit", "confirmed:sms", "changed", "unsuitable", "unreachable3"]
    ),
    "Khekada": ["confirmed"] * 8 + ["confirmed:visit", "unsuitable", "unreachable3", "tried1"],
}


def _principal(role: Role, unit: Unit) -> Principal | None:
    row = db.session.execute(
        select(Officer, Post)
        .join(PostAssignment, PostAssignment.officer_id == Officer.id)
        .join(Post, Post.id == PostAssignment.post_id)
        .where(
            Post.role == role,
            Post.unit_id == unit.id,
            Post.active.is_(True),
            PostAssignment.ended_at.is_(None),
        )
        .order_by(Officer.pno)
        .limit(1)
    ).first()
    return Principal(officer=row[0], post=row[1], session=None) if row else None


def _station(district: Unit, name: str) -> Unit | None:
    return db.session.scalar(
        select(Unit).where(
            Unit.kind == UnitKind.STATION, Unit.name_en == name, district.covers(Unit.path)
        )
    )


def _phase_of(district: Unit, today: date) -> ElectionPhase | None:
    return db.session.scalar(
        select(ElectionPhase)
        .join(PhaseDistrict, PhaseDistrict.phase_id == ElectionPhase.id)
        .where(PhaseDistrict.district_id == district.id, ElectionPhase.poll_date >= today)
        .order_by(ElectionPhase.poll_date)
        .limit(1)
    )


def ensure_demo_drive(district: Unit) -> list[str]:
    """Open the demo drive and record its outcomes and two meetings, unless a drive covers the
    district; returns what was done."""
    if db.session.scalar(
        select(VerificationDrive.id).where(drives.covering_condition(district)).limit(1)
    ):
        return []
    sp_office = _principal(Role.SP_OFFICE, district)
    if sp_office is None:
        return ["drive: skipped (no demo SP office)"]
    now = utcnow()
    opened = now - timedelta(days=DAYS_OPEN, hours=3)
    today = ist_day(now)
    phase = _phase_of(district, today)
    drive = drives.open_drive(
        sp_office,
        scope_unit_id=district.id,
        phase_id=phase.id if phase else None,
        opens_on=ist_day(opened),
        due_on=today + timedelta(days=14),
        max_age_days=30,
        name="Baghpat re-verification before the panchayat polls",
        now=opened,
    )
    log = [f"drive: opened with {drive.task_count} contacts"]
    recorded = 0
    for name, plan in STATION_PLANS.items():
        station = _station(district, name)
        officer = station and (
            _principal(Role.STATION_OFFICER, station) or _principal(Role.CONSTABLE, station)
        )
        if officer is None:
            continue
        recorded += _work_station(officer, drive, station, plan, opened)
        if name == "Baraut":
            log += _meetings(officer, now)
    log.append(f"drive: {recorded} outcomes recorded")
    return log


def _at(opened: datetime, index: int, day: int) -> datetime:
    """A moment of the drive's ``day`` (0 = the first), spread over office hours (IST)."""
    return opened + timedelta(days=day, hours=1 + (index % 7), minutes=(index * 11) % 60)


def _work_station(officer, drive, station, plan, opened) -> int:
    done = 0
    for index, step in enumerate(plan):
        task = drives.next_task(officer, drive, station)
        if task is None:
            break
        day = index * DAYS_OPEN // len(plan)
        outcome, _, method = step.partition(":")
        try:
            with db.session.begin_nested():
                if outcome.startswith(("tried", "unreachable")):
                    tries = 3 if outcome == "unreachable3" else int(outcome[-1])
                    first_day = min(day, DAYS_OPEN - tries)
                    for attempt in range(tries):
                        when = _at(opened, index, first_day + attempt)
                        task = drives.record_outcome(
                            officer, task.id, task.version, "unreachable", now=when
                        )
                else:
                    _settle(officer, task, outcome, method or "call", _at(opened, index, day))
        except DomainError:
            continue  # e.g. a change already waiting for the ASP: the task stays to verify
        done += 1
    return done


def _settle(officer, task, outcome, method, when) -> None:
    contact: Contact = task.contact
    if outcome == "changed":
        details = roster.ContactDetails(
            name=contact.name,
            name_other="" if contact.name_other_generated else contact.name_other,
            mobile=_new_number(contact),
            mobile_alt=contact.mobile_alt or "",
            whatsapp=contact.whatsapp,
            category=contact.category.value,
            gender=contact.gender.value,
            address=contact.address,
            notes=contact.notes,
            confidential=contact.confidential,
            consent_on=contact.consent_on,
            consent_language=contact.consent_language,
        )
        drives.record_outcome(officer, task.id, task.version, "changed", details=details, now=when)
    elif outcome == "unsuitable":
        drives.record_outcome(
            officer,
            task.id,
            task.version,
            "unsuitable",
            reason="unsuitable",
            note="Now a candidate for pradhan",
            now=when,
        )
    else:
        drives.record_outcome(officer, task.id, task.version, "confirmed", method=method, now=when)


def _new_number(contact: Contact) -> str:
    """Another well-formed number for a changed contact (the last digits turned around)."""
    digits = (contact.mobile or "+919812345678")[-10:]
    return digits[:5] + digits[5:][::-1] if digits[5:] != digits[5:][::-1] else "9" + digits[1:]


def _meetings(officer: Principal, now: datetime) -> list[str]:
    places = meetings.station_places(officer)
    with_contacts = [place for place in places if meetings.invited_rosters(officer, [place.id])][:4]
    if len(with_contacts) < 4:
        return []
    log = []
    for number, (days_ago, villages, venue, topics) in enumerate(
        (
            (3, with_contacts[:2], "Panchayat bhawan", "Peaceful polling; rumours on WhatsApp"),
            (1, with_contacts[2:4], "Thana Baraut", "Polling day arrangements; whom to call"),
        )
    ):
        held = now - timedelta(days=days_ago, hours=5)
        invited = meetings.invited_rosters(officer, [place.id for place in villages])
        meeting = meetings.record_meeting(
            officer,
            held_at=held,
            venue=f"{venue}, {villages[0].name_en}",
            chaired_by="SHO Baraut",
            place_ids=[place.id for place in villages],
            attended_ids=[contact.id for contact in invited[: 6 - number]],
            topics=topics,
            notes="Members agreed to report any rumour to the thana at once.",
            now=held + timedelta(hours=2),
        )
        log.append(
            f"meeting: {meeting.attendance} attended, {meeting.confirmed_in_drives} confirmed"
        )
    return log
