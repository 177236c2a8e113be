"""Geography pages: the scope's districts, a unit, a place, and place search.

Every view needs ``VIEW_GEOGRAPHY``; everything is read through the scope helpers, so a unit or
place outside the signed-in post's jurisdiction answers 404 exactly like one that does not exist.
"""
import re

from flask import Blueprint, render_template, request

from cplan.access import requires
from cplan.blueprints.geo.forms import PlaceSearchForm
from cplan.models.geo import Place, PlaceKind, Unit, UnitKind
from cplan.services import places as place_service
from cplan.services.permissions import Permission
from cplan.services.scope import scope_unit, scoped_get_or_404
from cplan.templating import current_language

bp = Blueprint("geo", __name__, url_prefix="/geo")

PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


def page_arg() -> int:
    """The ``page`` query argument: ASCII digits only, anything else means the first page."""
    value = request.args.get("page", "")
    return max(1, int(value)) if PAGE_NUMBER.fullmatch(value) else 1


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_GEOGRAPHY)
def show_index():
    """List the districts (or stations) of the current scope with their counts."""
    scope = scope_unit()
    summaries = place_service.overview(scope) if scope is not None else []
    return render_template(
        "geo/index.html", scope=scope, summaries=summaries, form=PlaceSearchForm(formdata=None)
    )


@bp.get("/units/<int:unit_id>", endpoint="unit")
@requires(Permission.VIEW_GEOGRAPHY)
def show_unit(unit_id):
    """Show a unit: districts above district level, circles and stations, or a station's places."""
    unit = scoped_get_or_404(Unit, unit_id)
    context = {"unit": unit, "ancestors": place_service.ancestors(unit)}
    if unit.kind in place_service.ABOVE_DISTRICT:
        context["summaries"] = place_service.district_summaries(unit)
    elif unit.kind == UnitKind.STATION:
        context["pager"] = place_service.places_of(unit, page_arg(), current_language())
    else:
        context["circles"] = place_service.stations_by_circle(unit)
        if unit.kind == UnitKind.DISTRICT:
            context["unattached"] = place_service.count_unattached_places(unit)
    return render_template("geo/unit.html", **context)


@bp.get("/places/<int:place_id>", endpoint="place")
@requires(Permission.VIEW_GEOGRAPHY)
def show_place(place_id):
    """Show a place: names in both scripts, codes, where it lies and its station history."""
    place = scoped_get_or_404(Place, place_id)
    holder = place.station or place.district  # the unit that answers for the place
    is_town = place.kind == PlaceKind.TOWN
    return render_template(
        "geo/place.html",
        place=place,
        ancestors=place_service.ancestors(holder) + [holder],
        spells=place_service.station_history(place),
        wards=place_service.wards_of(place, current_language()) if is_town else [],
        scope=scope_unit(),
    )


@bp.get("/search", endpoint="search")
@requires(Permission.VIEW_GEOGRAPHY)
def search_places():
    """Find places in scope by name in either script, or by LGD code."""
    form = PlaceSearchForm(formdata=request.args)
    pager = too_short = None
    if form.q.data and form.validate():
        try:
            pager = place_service.search_places(form.q.data, page_arg(), language=current_language())
        except place_service.QueryTooShort:
            too_short = True
    return render_template("geo/search.html", form=form, pager=pager, too_short=too_short)
