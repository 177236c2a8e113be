"""The home page of each post (what needs it now) and the language switch."""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from cplan.extensions import db
from cplan.models.geo import Unit, UnitKind
from cplan.services import coverage, dashboard, roster
from cplan.services.dashboard import Home
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web import charts
from cplan.web.access import public, requires
from cplan.web.i18n import LANGUAGE_SESSION_KEY
from cplan.web.kit import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
@requires(Permission.SIGNED_IN)
def index():
    """Show the post's home page: the work waiting for it now."""
    principal = current_user
    home = dashboard.home_of(principal)
    now = roster.now()
    context: dict = {"home": home.value, "now": now}
    if home == Home.STATION:
        context.update(
            villages=dashboard.station_villages(principal),
            # Five: the villages (and their Call buttons) stay near the first screen.
            incidents=dashboard.urgent_incidents(principal, limit=5),
            submissions=dashboard.my_open_submissions(principal),
            drive_progress=dashboard.drive_progress(principal),
        )
    elif home == Home.OFFICE:
        approvals = dashboard.approvals_by_age(principal, now)
        stations = dashboard.coverage_per_station(principal, principal.unit)
        context.update(
            counts=dashboard.incident_counts(principal, now),
            incidents=dashboard.urgent_incidents(principal),
            escalations=dashboard.escalations_to(principal),
            approvals=approvals,
            approvals_chart=charts.approvals_chart(approvals, dashboard.AGE_LABELS),
            coverage_chart=charts.coverage_chart(
                stations, lambda station: url_for("coverage.unit", unit_id=station.id)
            ),
            incidents_chart=charts.incidents_chart(dashboard.incidents_per_day(principal, now)),
            sensitive=dashboard.sensitive_below_target(principal),
            out_of_date=dashboard.out_of_date_count(principal),
        )
        progress = dashboard.drive_progress(principal)
        if progress is not None:
            context.update(
                drive_progress=progress, burn_down_chart=charts.burn_down_chart(progress)
            )
    elif home == Home.CONTROL_ROOM:
        context.update(
            counts=dashboard.incident_counts(principal, now),
            districts=dashboard.open_by_district(principal, now),
            incidents=dashboard.urgent_incidents(principal),
            escalations=dashboard.escalations_to(principal),
            incidents_chart=charts.incidents_chart(dashboard.incidents_per_day(principal, now)),
        )
        responses = dashboard.response_by_district(principal, now)
        context.update(responses=responses, response_chart=charts.response_chart(responses))
    return render_template("main/index.html", **context)


@bp.get("/map", endpoint="map")
@bp.get("/map/<int:unit_id>", endpoint="unit_map")
@requires(Permission.VIEW_ROSTER)
def show_map(unit_id=None):
    """The villages and wards of a district, circle or station as points on a map, coloured by
    their active contacts against the target, each a link to its roster."""
    unit = get_in_scope(current_user, Unit, unit_id) if unit_id else current_user.unit
    if unit.kind in (UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE):
        # Too many places for one drawing: each district is a point, a link to its own map.
        districts = dashboard.district_points(current_user, unit)
        election_on = any(point.sensitive is not None for point in districts)
        # During an election the sensitive places come first; either colouring on request.
        by = request.args.get("by", "sensitive" if election_on else "coverage")
        if by not in ("coverage", "sensitive"):
            by = "coverage"
        district_map = charts.district_map(
            unit, districts, by, lambda district: url_for("main.unit_map", unit_id=district.id)
        )
        return render_template(
            "main/map.html",
            unit=unit,
            districts=districts,
            district_map=district_map,
            election_on=election_on,
            village_map=None,
        )
    village_map = charts.village_map(
        unit,
        dashboard.map_places(current_user, unit),
        coverage.target(),
        lambda place_id: url_for("roster.place", place_id=place_id),
    )
    return render_template("main/map.html", unit=unit, districts=[], village_map=village_map)


@bp.post("/language/<lang>")
@public
def set_language(lang):
    """Switch the interface language and return to the page the user was on."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session[LANGUAGE_SESSION_KEY] = lang
    if current_user.is_authenticated:
        # Remembered per officer, so the choice follows them to any handset.
        current_user.officer.language = lang
        db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or url_for("main.index"))
