"""Meeting pages: the list per station, circle or district, recording one, and one meeting.

Recording is two steps on one page: tick the villages invited (a GET form), then the contacts
who came from those villages' rosters, with when, where, who chaired, topics and notes.
Thin views: form -> ``cplan.services.meetings`` -> one commit -> flash -> redirect.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.meetings.forms import MeetingForm
from cplan.extensions import db
from cplan.models.geo import Unit
from cplan.services import meetings
from cplan.services.errors import DomainError
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.kit import ascii_int, field_error, id_arg, page_arg

bp = Blueprint("meetings", __name__, url_prefix="/meetings")


def _ids(name: str) -> list[int]:
    return [number for value in request.values.getlist(name) if (number := ascii_int(value))]


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_DRIVES)
def list_meetings():
    """Meetings of the post's area (``?unit=`` for a station, circle or district below it)."""
    unit_id = id_arg("unit")
    unit = get_in_scope(current_user, Unit, unit_id) if unit_id else current_user.unit
    return render_template(
        "meetings/index.html",
        unit=unit,
        pager=meetings.meetings_page(current_user, unit, page=page_arg()),
        by_station=meetings.counts_by_station(current_user, unit),
    )


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.VERIFY_CONTACTS)
def record_meeting():
    """Record a coordination meeting: villages invited, contacts who came, and what was said."""
    places = meetings.station_places(current_user)
    chosen = _ids("place")
    form = MeetingForm()
    if request.method == "POST" and form.validate():
        try:
            meeting = meetings.record_meeting(
                current_user,
                held_at=form.held_at_utc(),
                venue=form.venue.data,
                chaired_by=form.chaired_by.data,
                place_ids=chosen,
                attended_ids=_ids("attended"),
                topics=form.topics.data or "",
                notes=form.notes.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            confirmed = meeting.confirmed_in_drives
            db.session.commit()
            flash(
                _(
                    "Meeting recorded: %(count)s attended, %(confirmed)s confirmed in open drives.",
                    count=meeting.attendance,
                    confirmed=confirmed,
                ),
                "success",
            )
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    contacts = meetings.invited_rosters(current_user, chosen)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "meetings/new.html",
        form=form,
        places=places,
        chosen=set(chosen),
        contacts=contacts,
        attended=set(_ids("attended")),
    ), status


@bp.get("/<int:meeting_id>", endpoint="show")
@requires(Permission.VIEW_DRIVES)
def show_meeting(meeting_id):
    """One meeting: when, where, who chaired, villages, who came, topics and notes."""
    meeting = meetings.get_meeting(current_user, meeting_id)
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        attendees=meetings.attendees(current_user, meeting),
    )
