"""Incidents for the field app and the control rooms: report one, list them (cursor paging,
``updated_since`` for a phone's sync), one with its timeline, log a verification call, change
the status, add a note.

Every rule is the incident service's (``cplan.services.incidents``): scope (an incident with
none of the post's places answers 404), the workflow's transitions (409), compare-and-set on
the version seen (409 naming who changed it and when), and the timeline as the reader may see
it (a contact the reader may not know is withheld).
"""

from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from cplan.blueprints.api import paging
from cplan.blueprints.api.schemas import (
    CallRequest,
    IncidentDetailAnswer,
    IncidentPage,
    IncidentQuery,
    NoteRequest,
    ReportRequest,
    StatusRequest,
    TimelineEntryAnswer,
)
from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.incidents import Incident
from cplan.services import feed, incidents
from cplan.services.errors import NotInScope
from cplan.services.permissions import Permission
from cplan.web.access import requires

bp = Blueprint(
    "api_incidents",
    __name__,
    url_prefix="/api/v1/incidents",
    description="Report and follow incidents and rumours: calls, status, notes.",
)


def incident_answer(incident: Incident) -> dict:
    return feed.incident_summary(incident)


def entry_answer(entry) -> dict:
    officer = entry.officer
    return {
        "seq": entry.seq,
        "at": entry.at,
        "kind": entry.kind.value,
        "text": entry.text,
        "officer": officer.name if officer is not None else None,
        "contact_id": entry.contact.id if entry.contact is not None else None,
        "withheld": entry.withheld.value if entry.withheld is not None else None,
        "call_outcome": entry.call_outcome.value if entry.call_outcome else None,
        "from_status": entry.from_status.value if entry.from_status else None,
        "to_status": entry.to_status.value if entry.to_status else None,
        "corrects_seq": entry.corrects.seq if entry.corrects is not None else None,
    }


def detail_answer(incident: Incident) -> dict:
    answer = incident_answer(incident)
    answer["timeline"] = [
        entry_answer(entry) for entry in incidents.timeline(current_user, incident)
    ]
    return answer


@bp.get("", endpoint="index")
@bp.arguments(IncidentQuery, location="query")
@bp.response(200, IncidentPage)
@requires(Permission.VIEW_INCIDENTS)
def index(args):
    """Incidents in the post's scope, least recently changed first: a phone keeps the last
    ``next`` cursor (or the newest ``updated_at``) and asks again for what changed since."""
    statement = incidents.with_listing_details(
        select(Incident).where(incidents.visible_incidents_condition(current_user))
    )
    return paging.keyset_page(
        statement,
        args,
        Incident.updated_at,
        Incident.id,
        lambda incident: incident.updated_at,
        lambda rows: [incident_answer(incident) for incident in rows],
    )


@bp.post("", endpoint="report")
@bp.arguments(ReportRequest)
@bp.response(201, IncidentDetailAnswer)
@requires(Permission.MANAGE_INCIDENTS)
def report(data):
    """Report an incident or a rumour for one or more places of one district."""
    wanted = set(data["place_ids"])
    places = incidents.places_to_report(current_user, ids=wanted)
    if {place.id for place in places} != wanted:
        raise NotInScope()
    incident = incidents.create_incident(
        current_user,
        places,
        data["kind"],
        data["severity"],
        occurred_at=data["occurred_at"],
        reported_at=utcnow(),
        source=data["source"],
        summary=data["summary"],
        up112_number=data["up112_number"],
        confidential=data["confidential"],
    )
    answer = detail_answer(incident)
    db.session.commit()
    return answer


@bp.get("/<int:incident_id>", endpoint="show")
@bp.response(200, IncidentDetailAnswer)
@requires(Permission.VIEW_INCIDENTS)
def show(incident_id):
    """One incident with its timeline as the reader may see it."""
    return detail_answer(incidents.get_visible(current_user, incident_id))


@bp.post("/<int:incident_id>/calls", endpoint="log_call")
@bp.arguments(CallRequest)
@bp.response(201, TimelineEntryAnswer)
@requires(Permission.MANAGE_INCIDENTS)
def log_call(data, incident_id):
    """Record a verification call to a contact of the incident's places (or their stations')."""
    entry = incidents.log_call(
        current_user, incident_id, data["contact_id"], data["outcome"], data["said"]
    )
    answer = entry_answer(incidents.shown_entry(current_user, entry))
    db.session.commit()
    return answer


@bp.post("/<int:incident_id>/status", endpoint="change_status")
@bp.arguments(StatusRequest)
@bp.response(200, IncidentDetailAnswer)
@bp.alt_response(409, response="DEFAULT_ERROR", description="Changed by someone else first")
@requires(Permission.MANAGE_INCIDENTS)
def change_status(data, incident_id):
    """Move the incident on, naming the version seen (compare-and-set)."""
    incident = incidents.change_status(
        current_user, incident_id, data["version"], data["status"], data["note"]
    )
    answer = detail_answer(incident)
    db.session.commit()
    return answer


@bp.post("/<int:incident_id>/notes", endpoint="add_note")
@bp.arguments(NoteRequest)
@bp.response(201, TimelineEntryAnswer)
@requires(Permission.MANAGE_INCIDENTS)
def add_note(data, incident_id):
    """A note on the timeline, or (``public_message``) the facts pushed to the public."""
    entry = incidents.add_note(current_user, incident_id, data["text"], data["public_message"])
    answer = entry_answer(incidents.shown_entry(current_user, entry))
    db.session.commit()
    return answer
