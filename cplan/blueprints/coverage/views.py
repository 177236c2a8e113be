"""Coverage pages: the post's unit and its drill-down, a station's action list, duplicates.

Coverage needs ``VIEW_REPORTS`` (station officers upwards; constables do not have it); the
duplicates page needs ``VIEW_ROSTER``. Units are loaded through ``scope.get_in_scope``, so a
unit outside the post's subtree answers 404.
"""

from flask import Blueprint, render_template
from flask_login import current_user

from cplan.extensions import db
from cplan.models.geo import Unit, UnitKind
from cplan.services import audit, coverage, duplicates, places, roster, sensitive_places
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.kit import number_arg, page_arg

bp = Blueprint("coverage", __name__, url_prefix="/coverage")


def render_coverage(unit: Unit):
    context = {
        "unit": unit,
        "coverage": coverage.coverage_of(current_user, unit),
        "ancestors": places.ancestors(current_user, unit),
        "election": sensitive_places.unit_summary(current_user, unit),
    }
    if unit.kind == UnitKind.STATION:
        context["shortfalls"] = coverage.places_below_target(
            current_user, unit, page=page_arg(), per_page=number_arg("per_page", coverage.PER_PAGE)
        )
        context["grades"] = sensitive_places.active_grades(
            row.place for row in context["shortfalls"].items
        )
    return render_template("coverage/unit.html", **context)


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_REPORTS)
def show_index():
    """Coverage of the post's own unit: per district, per station or per place."""
    return render_coverage(get_in_scope(current_user, Unit, current_user.unit.id))


@bp.get("/units/<int:unit_id>", endpoint="unit")
@requires(Permission.VIEW_REPORTS)
def show_unit(unit_id):
    """Coverage of a unit within the post's scope (a station lists its places below target)."""
    return render_coverage(get_in_scope(current_user, Unit, unit_id))


@bp.get("/duplicates", endpoint="duplicates")
@requires(Permission.VIEW_ROSTER)
def list_duplicates():
    """Numbers carried by more than one pending or active contact in scope, with links to each."""
    pager = duplicates.duplicate_numbers(
        current_user, page=page_arg(), per_page=number_arg("per_page", duplicates.PER_PAGE)
    )
    full_numbers = roster.sees_full_numbers(current_user)
    if full_numbers and pager.items:
        # Full numbers on screen: who saw which citizens is kept, as for a roster view.
        audit.record(
            "roster.duplicates_viewed",
            actor=current_user,
            unit=current_user.unit,
            detail={
                "contact_ids": sorted(
                    {contact.id for group in pager.items for contact in group.contacts}
                )
            },
        )
        db.session.commit()
    return render_template("coverage/duplicates.html", pager=pager, full_numbers=full_numbers)
