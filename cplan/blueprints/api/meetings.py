"""Coordination meetings for the field app: list them (cursor paging, ``updated_since``), one
with who came, and record one.

Every rule is the meeting service's (``cplan.services.meetings``), as on the pages: a meeting
outside the post's area answers 404, only a station's posts record (its own villages, contacts
from those villages' rosters), and those who came are confirmed in every open drive in the same
transaction, with the audit event (``meeting.recorded``).
"""

from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cplan.blueprints.api import paging
from cplan.blueprints.api.schemas import (
    MeetingDetailAnswer,
    MeetingPage,
    MeetingQuery,
    MeetingRequest,
    RecordedMeetingAnswer,
)
from cplan.extensions import db
from cplan.models.geo import Unit
from cplan.models.meetings import CoordinationMeeting
from cplan.services import meetings
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires

bp = Blueprint(
    "api_meetings",
    __name__,
    url_prefix="/api/v1/meetings",
    description="Coordination meetings of a station with its respected citizens.",
)


def meeting_answer(meeting: CoordinationMeeting) -> dict:
    recorded_by = meeting.recorded_by
    return {
        "id": meeting.id,
        "station_id": meeting.station_id,
        "held_at": meeting.held_at,
        "venue": meeting.venue,
        "chaired_by": meeting.chaired_by,
        "topics": meeting.topics,
        "notes": meeting.notes,
        "attendance": meeting.attendance,
        "place_ids": sorted(place.place_id for place in meeting.places),
        "recorded_by": recorded_by.name if recorded_by is not None else None,
        "recorded_at": meeting.recorded_at,
    }


def detail_answer(meeting: CoordinationMeeting) -> dict:
    answer = meeting_answer(meeting)
    answer["attendees"] = [
        {"id": contact.id, "name": contact.name, "place_id": contact.place_id}
        for contact in meetings.attendees(current_user, meeting)
    ]
    return answer


@bp.get("", endpoint="index")
@bp.arguments(MeetingQuery, location="query")
@bp.response(200, MeetingPage)
@requires(Permission.VIEW_DRIVES)
def list_meetings(args):
    """Meetings of the post's area (``unit``: a station, circle or district below it), in the
    order they were recorded: a phone keeps the last ``next`` cursor and asks again."""
    unit_id = args.get("unit")
    unit = get_in_scope(current_user, Unit, unit_id) if unit_id else current_user.unit
    statement = (
        select(CoordinationMeeting)
        .where(meetings.meetings_condition(current_user, unit))
        .options(
            selectinload(CoordinationMeeting.places),
            selectinload(CoordinationMeeting.recorded_by),
        )
    )
    return paging.keyset_page(
        statement,
        args,
        CoordinationMeeting.recorded_at,
        CoordinationMeeting.id,
        lambda meeting: meeting.recorded_at,
        lambda rows: [meeting_answer(meeting) for meeting in rows],
    )


@bp.get("/<int:meeting_id>", endpoint="show")
@bp.response(200, MeetingDetailAnswer)
@requires(Permission.VIEW_DRIVES)
def show_meeting(meeting_id):
    """One meeting: when, where, who chaired, the villages invited and who came."""
    return detail_answer(meetings.get_meeting(current_user, meeting_id))


@bp.post("", endpoint="record")
@bp.arguments(MeetingRequest)
@bp.response(201, RecordedMeetingAnswer)
@requires(Permission.VERIFY_CONTACTS)
def record_meeting(data):
    """Record a meeting of the post's station; those who came are confirmed in open drives."""
    meeting = meetings.record_meeting(
        current_user,
        held_at=data["held_at"],
        venue=data["venue"],
        chaired_by=data["chaired_by"],
        place_ids=data["place_ids"],
        attended_ids=data["attended_ids"],
        topics=data["topics"],
        notes=data["notes"],
    )
    answer = detail_answer(meeting) | {"confirmed_in_drives": meeting.confirmed_in_drives}
    db.session.commit()
    return answer
