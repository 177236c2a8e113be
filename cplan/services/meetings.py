"""Coordination meetings (समन्वय बैठक): a police station records a meeting with its C-Plan members.

Station staff record when and where it was held, who chaired it, the villages invited, the
contacts who came (ticked from those villages' rosters), topics and notes. Attending confirms a
contact's pending task in any open drive (method: meeting), in the same transaction. Meetings
are listed and counted per station, circle and district (the ``unit_path`` range condition).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.meetings import CoordinationMeeting, MeetingAttendance, MeetingPlace
from cplan.models.roster import Contact, ContactStatus
from cplan.services import audit, drives, roster
from cplan.services.errors import DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

TEXT_LENGTH = 200
NOTES_LENGTH = 4000
PER_PAGE = 25


class MeetingError(DomainError):
    """A meeting was refused; the message says why (translatable)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def station_of(principal: Principal) -> Unit:
    """The station a post records meetings for (its own), or ``NotAllowed``."""
    if not principal.can(Permission.VERIFY_CONTACTS) or principal.unit.kind != UnitKind.STATION:
        raise NotAllowed(_l("Your post cannot do this."))
    return principal.unit


def station_places(principal: Principal) -> list[Place]:
    """The inhabited places of the post's station, by name."""
    station = station_of(principal)
    return list(
        db.session.scalars(
            select(Place)
            .where(Place.station_id == station.id, Place.uninhabited.is_(False))
            .order_by(Place.name_en, Place.id)
        )
    )


def invited_rosters(principal: Principal, place_ids: list[int]) -> list[Contact]:
    """The active contacts of the chosen places (the attendance list), by place and name."""
    station = station_of(principal)
    if not place_ids:
        return []
    return list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.place_id.in_(place_ids),
                Contact.status == ContactStatus.ACTIVE,
                station.covers(Contact.unit_path),
                roster.visible_condition(principal),
            )
            .options(selectinload(Contact.place))
            .order_by(Contact.place_id, Contact.name, Contact.id)
        )
    )


def record_meeting(
    principal: Principal,
    *,
    held_at: datetime,
    venue: str,
    chaired_by: str,
    place_ids: list[int],
    attended_ids: list[int],
    topics: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> CoordinationMeeting:
    """Record a meeting; the contacts who came are confirmed in open drives."""
    station = station_of(principal)
    now = now or utcnow()
    venue, chaired_by = (venue or "").strip(), (chaired_by or "").strip()
    if held_at > now + timedelta(hours=1):
        raise MeetingError(_l("A meeting is recorded after it was held."), "held_at")
    if not venue:
        raise MeetingError(_l("Say where the meeting was held."), "venue")
    if not chaired_by:
        raise MeetingError(_l("Say who chaired the meeting."), "chaired_by")
    place_ids = sorted(set(place_ids))
    places = {place.id for place in station_places(principal)}
    if not place_ids or not set(place_ids) <= places:
        raise MeetingError(_l("Choose the villages of your station that were invited."), "places")
    invited = {contact.id for contact in invited_rosters(principal, place_ids)}
    attended_ids = sorted(set(attended_ids))
    if not set(attended_ids) <= invited:
        raise MeetingError(
            _l("Tick only contacts from the rosters of the chosen villages."), "attended"
        )
    meeting = CoordinationMeeting(
        station_id=station.id,
        unit_path=station.path,
        held_at=held_at,
        venue=venue[:TEXT_LENGTH],
        chaired_by=chaired_by[:TEXT_LENGTH],
        topics=(topics or "").strip()[:NOTES_LENGTH],
        notes=(notes or "").strip()[:NOTES_LENGTH],
        attendance=len(attended_ids),
        recorded_by_id=principal.officer.id,
        recorded_at=now,
    )
    db.session.add(meeting)
    db.session.flush()
    db.session.add_all(MeetingPlace(meeting_id=meeting.id, place_id=pid) for pid in place_ids)
    db.session.add_all(
        MeetingAttendance(meeting_id=meeting.id, contact_id=cid) for cid in attended_ids
    )
    db.session.flush()
    confirmed = drives.confirm_attended(principal, attended_ids, now)
    audit.record(
        "meeting.recorded",
        actor=principal,
        target=meeting,
        unit=station,
        detail={
            "places": len(place_ids),
            "attended": len(attended_ids),
            "confirmed_in_drives": len(confirmed),
        },
    )
    meeting.confirmed_in_drives = len(confirmed)
    return meeting


def meetings_condition(principal: Principal, unit: Unit):
    if not principal.unit.contains(unit):
        raise NotInScope()
    return unit.covers(CoordinationMeeting.unit_path)


def meetings_page(principal: Principal, unit: Unit, *, page: int = 1, per_page: int = PER_PAGE):
    """Meetings of ``unit``'s stations, latest first (a page, with the total)."""
    query = (
        select(CoordinationMeeting)
        .where(meetings_condition(principal, unit))
        .options(selectinload(CoordinationMeeting.station))
        .order_by(CoordinationMeeting.held_at.desc(), CoordinationMeeting.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def counts_by_station(principal: Principal, unit: Unit) -> list[tuple[Unit, int, int]]:
    """(station, meetings, attendance) for every station of ``unit`` that held a meeting."""
    rows = db.session.execute(
        select(
            CoordinationMeeting.station_id,
            func.count(CoordinationMeeting.id),
            func.sum(CoordinationMeeting.attendance),
        )
        .where(meetings_condition(principal, unit))
        .group_by(CoordinationMeeting.station_id)
    ).all()
    stations = {
        station.id: station
        for station in db.session.scalars(select(Unit).where(Unit.id.in_([row[0] for row in rows])))
    }
    return sorted(
        ((stations[sid], count, int(total or 0)) for sid, count, total in rows),
        key=lambda row: row[0].name_en,
    )


def get_meeting(principal: Principal, meeting_id: int) -> CoordinationMeeting:
    meeting = db.session.scalar(
        select(CoordinationMeeting).where(
            CoordinationMeeting.id == meeting_id,
            principal.unit.covers(CoordinationMeeting.unit_path),
        )
    )
    if meeting is None:
        raise NotInScope()
    return meeting


def attendees(principal: Principal, meeting: CoordinationMeeting) -> list[Contact]:
    """The contacts who came that the post may see, by name."""
    return list(
        db.session.scalars(
            select(Contact)
            .join(MeetingAttendance, MeetingAttendance.contact_id == Contact.id)
            .where(MeetingAttendance.meeting_id == meeting.id, roster.visible_condition(principal))
            .options(selectinload(Contact.place))
            .order_by(Contact.name, Contact.id)
        )
    )
