"""Places and their rosters for the field app: search, one place with its contacts, enrol a
contact, and one contact.

As on the pages: places and contacts are loaded in the post's scope (outside it: 404),
confidential contacts need the ASP or above, numbers are in full for station posts and for
what a supervisor revealed on the web within the last 15 minutes (else masked), and each roster
or contact read is audited (``roster.viewed``, ``roster.contact_viewed``).
"""

from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint, abort

from cplan.blueprints.api import paging
from cplan.blueprints.api.schemas import (
    ContactAnswer,
    EnrolRequest,
    PlacePage,
    PlaceSearchQuery,
    RosterAnswer,
    RosterQuery,
)
from cplan.extensions import db
from cplan.models.geo import Place
from cplan.models.roster import Contact, ContactStatus
from cplan.services import places, roster
from cplan.services.permissions import Permission
from cplan.services.phone import mask_mobile
from cplan.services.roster import ContactDetails
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.problems import problem

bp = Blueprint(
    "api_places",
    __name__,
    url_prefix="/api/v1",
    description="Villages and wards, their respected citizens, and enrolling a new one.",
)


def place_answer(place: Place) -> dict:
    return {
        "id": place.id,
        "kind": place.kind.value,
        "name_en": place.name_en,
        "name_hi": place.name_hi,
        "lgd_code": place.lgd_code,
        "district_id": place.district_id,
        "station_id": place.station_id,
        "active_contacts": place.active_contacts or 0,
    }


def contact_answer(contact: Contact, full: bool) -> dict:
    def number(value):
        return value if full or not value else mask_mobile(value)

    return {
        "id": contact.id,
        "place_id": contact.place_id,
        "name": contact.name,
        "name_other": contact.name_other,
        "category": contact.category.value,
        "status": contact.status.value,
        "mobile": number(contact.mobile),
        "mobile_alt": number(contact.mobile_alt),
        "full_numbers": full,
        "whatsapp": contact.whatsapp,
        "confidential": contact.confidential,
        "version": contact.version,
        "enrolled_at": contact.enrolled_at,
        "updated_at": contact.updated_at,
    }


@bp.get("/places", endpoint="search")
@bp.arguments(PlaceSearchQuery, location="query")
@bp.response(200, PlacePage)
@requires(Permission.VIEW_ROSTER)
def search(args):
    """Find villages and wards in the post's scope by a name in either script, or an LGD code."""
    page = paging.decode(args.get("cursor"), int) or 1
    try:
        found = places.search_places(current_user, args["q"], page=page, per_page=args["limit"])
    except places.QueryTooShort:
        abort(
            422,
            messages={"query": {"q": [_("Type at least two letters, or a complete LGD code.")]}},
        )
    return {
        "items": [place_answer(place) for place in found.items],
        "next": paging.encode(page + 1) if found.has_next else None,
    }


@bp.get("/places/<int:place_id>", endpoint="place")
@bp.arguments(RosterQuery, location="query")
@bp.response(200, RosterAnswer)
@requires(Permission.VIEW_ROSTER)
def show_place(args, place_id):
    """A village or ward with its contacts: active, and pending for those who enrol or decide.

    With ``updated_since`` only the contacts changed at or after it, and in ``removed`` those
    that left the roster since (removed, rejected, or a pending one the reader does not see):
    a phone keeps its copy of the roster in step."""
    place = get_in_scope(current_user, Place, place_id)
    since = args.get("updated_since")
    grouped = roster.place_roster(current_user, place, since=since)
    active = grouped.pop(ContactStatus.ACTIVE)
    pending = grouped.pop(ContactStatus.PENDING)
    if not roster.sees_pending(current_user):
        grouped[ContactStatus.PENDING], pending = pending, []
    full = roster.full_number_ids(current_user, place, active + pending)
    removed = [contact for left in grouped.values() for contact in left] if since else []
    answer = {
        "place": place_answer(place),
        "active": [contact_answer(contact, contact.id in full) for contact in active],
        "pending": [contact_answer(contact, contact.id in full) for contact in pending],
        "removed": [
            {"id": contact.id, "status": contact.status.value, "updated_at": contact.updated_at}
            for contact in sorted(removed, key=lambda contact: contact.id)
        ],
    }
    roster.record_roster_view(
        current_user, place, active=len(active), pending=len(pending), full_numbers=len(full)
    )
    db.session.commit()
    return answer


@bp.post("/places/<int:place_id>/contacts", endpoint="enrol")
@bp.arguments(EnrolRequest)
@bp.response(201, ContactAnswer)
@bp.alt_response(409, response="DEFAULT_ERROR", description="The number is already enrolled")
@requires(Permission.ENROL_CONTACT)
def enrol(data, place_id):
    """Enrol a respected citizen for a village of the post's station (pending until approved).

    When the number already belongs to a contact the answer is 409 listing them (and the
    villages elsewhere in the district where it is enrolled); send ``confirm_duplicate`` to
    enrol anyway.
    """
    place = get_in_scope(current_user, Place, place_id)
    confirmed = data.pop("confirm_duplicate")
    details = ContactDetails(**data)
    roster.check_enrolment_place(current_user, place)
    found, elsewhere = roster.duplicates(current_user, details)
    if (found or elsewhere) and not confirmed:
        db.session.rollback()
        return problem(
            409,
            detail=_("This number is already enrolled. Send confirm_duplicate to enrol anyway."),
            duplicates=[
                {"id": c.id, "place_id": c.place_id, "name": c.name, "status": c.status.value}
                for c in found
            ],
            elsewhere=[{"place": name, "station": station} for name, station in elsewhere],
        )
    contact = roster.enrol(current_user, place, details)
    answer = contact_answer(contact, roster.sees_full_numbers(current_user))
    db.session.commit()
    return answer


@bp.get("/contacts/<int:contact_id>", endpoint="contact")
@bp.response(200, ContactAnswer)
@requires(Permission.VIEW_ROSTER)
def show_contact(contact_id):
    """One contact, its numbers masked as on the web for posts above the station."""
    contact = roster.get_visible_contact(current_user, contact_id)
    full = contact.id in roster.full_number_ids(current_user, contact.place, [contact])
    answer = contact_answer(contact, full)
    roster.record_contact_view(current_user, contact, full_number=full)
    db.session.commit()
    return answer
