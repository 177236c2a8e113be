"""Geography pages: the scope's districts, a unit, a place, and place search; correcting place
names (one place from its page, or a file per district: a dry run, then the same file again).

Every view needs ``VIEW_GEOGRAPHY`` (corrections ``CORRECT_PLACE_NAMES``); everything is read
through the scope helpers, so a unit or place outside the signed-in post's jurisdiction answers
404 exactly like one that does not exist.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.geo.forms import (
    NamesCommitForm,
    NamesFileForm,
    PlaceNamesForm,
    PlaceSearchForm,
)
from cplan.extensions import db
from cplan.models.geo import Place, PlaceKind, Unit, UnitKind
from cplan.pipelines import place_name_import
from cplan.services import place_names
from cplan.services import places as place_service
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.errors import explain
from cplan.web.kit import download, field_error, page_arg
from cplan.web.templating import current_language

bp = Blueprint("geo", __name__, url_prefix="/geo")


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_GEOGRAPHY)
def show_index():
    """List the districts (or stations) of the current scope with their counts."""
    return render_template(
        "geo/index.html",
        scope=current_user.unit,
        summaries=place_service.overview(current_user),
        form=PlaceSearchForm(formdata=None),
    )


@bp.get("/units/<int:unit_id>", endpoint="unit")
@requires(Permission.VIEW_GEOGRAPHY)
def show_unit(unit_id):
    """Show a unit: districts above district level, circles and stations, or a station's places."""
    unit = get_in_scope(current_user, Unit, unit_id)
    context = {"unit": unit, "ancestors": place_service.ancestors(current_user, unit)}
    if unit.kind in place_service.ABOVE_DISTRICT:
        context["summaries"] = place_service.district_summaries(current_user, unit)
    elif unit.kind == UnitKind.STATION:
        context["pager"] = place_service.places_of(
            current_user, unit, page_arg(), current_language()
        )
    else:
        context["circles"] = place_service.stations_by_circle(current_user, unit)
        if unit.kind == UnitKind.DISTRICT:
            context["unattached"] = place_service.count_unattached_places(current_user, unit)
    return render_template("geo/unit.html", **context)


@bp.get("/places/<int:place_id>", endpoint="place")
@requires(Permission.VIEW_GEOGRAPHY)
def show_place(place_id):
    """Show a place: names in both scripts, codes, where it lies and its station history."""
    place = get_in_scope(current_user, Place, place_id)
    holder = place.station or place.district  # the unit that answers for the place
    is_town = place.kind == PlaceKind.TOWN
    return render_template(
        "geo/place.html",
        place=place,
        ancestors=place_service.ancestors(current_user, holder) + [holder],
        spells=place_service.station_history(place),
        wards=place_service.wards_of(current_user, place, current_language()) if is_town else [],
        scope=current_user.unit,
        name_changes=place_names.name_history(place),
    )


@bp.route("/places/<int:place_id>/names", methods=["GET", "POST"], endpoint="correct_names")
@requires(Permission.CORRECT_PLACE_NAMES)
def correct_names(place_id):
    """Correct a place's Hindi or English name (the old spellings stay searchable)."""
    place = get_in_scope(current_user, Place, place_id)
    form = PlaceNamesForm(data={"name_en": place.name_en, "name_hi": place.name_hi})
    if form.validate_on_submit():
        try:
            place_names.correct_place_names(
                current_user, place, form.name_en.data, form.name_hi.data
            )
        except place_names.PlaceNameError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The names are corrected. The old spellings still find the place."), "success")
            return redirect(url_for("geo.place", place_id=place.id))
    db.session.rollback()
    holder = place.station or place.district
    return render_template(
        "geo/correct_names.html",
        form=form,
        place=place,
        ancestors=place_service.ancestors(current_user, holder) + [holder],
    ), 400 if form.is_submitted() else 200


# ---- a file of name corrections per district --------------------------------------------------


def _names_page(district: Unit, form, status: int = 200):
    return render_template(
        "geo/place_names.html",
        district=district,
        form=form,
        limits={
            "megabytes": place_name_import.MAX_FILE_BYTES // (1024 * 1024),
            "rows": f"{place_name_import.MAX_ROWS:,}",
        },
    ), status


def _upload(field) -> tuple[str, bytes]:
    """The uploaded file's name and at most one byte more than the limit (enough to refuse it)."""
    return field.data.filename or "", field.data.read(place_name_import.MAX_FILE_BYTES + 1)


@bp.get("/units/<int:unit_id>/place-names", endpoint="place_names")
@requires(Permission.CORRECT_PLACE_NAMES)
def place_names_page(unit_id):
    """Correct many place names of a district from a file: the list to fill in, and the upload."""
    return _names_page(place_name_import.get_district(current_user, unit_id), NamesFileForm())


@bp.get("/units/<int:unit_id>/place-names/<language>.<file_format>", endpoint="place_names_list")
@requires(Permission.CORRECT_PLACE_NAMES)
def place_names_list(unit_id, language, file_format):
    """Download the district's places with today's names (CSV or XLSX, English or Hindi headers)."""
    district = place_name_import.get_district(current_user, unit_id)
    try:
        filename, mimetype, content = place_name_import.template_file(
            current_user, district, file_format, language
        )
    except ValueError:
        abort(404)
    return download(filename, mimetype, content)


@bp.post("/units/<int:unit_id>/place-names/check", endpoint="check_place_names")
@requires(Permission.CORRECT_PLACE_NAMES)
def check_place_names(unit_id):
    """Dry run: read the file and report every problem by row and column; changes nothing."""
    district = place_name_import.get_district(current_user, unit_id)
    form = NamesFileForm()
    if not form.validate_on_submit():
        return _names_page(district, form, 400)
    filename, data = _upload(form.file)
    try:
        report = place_name_import.dry_run(current_user, district, filename, data)
    except place_name_import.NamesFileError as error:
        db.session.rollback()
        field_error(form, error)
        return _names_page(district, form, 400)
    db.session.rollback()  # a dry run changes nothing
    commit_form = (
        NamesCommitForm(formdata=None, sha256=report.sha256) if report.ok and report.ready else None
    )
    return render_template(
        "geo/place_names_report.html", district=district, report=report, commit_form=commit_form
    )


@bp.post("/units/<int:unit_id>/place-names/commit", endpoint="commit_place_names")
@requires(Permission.CORRECT_PLACE_NAMES)
def commit_place_names(unit_id):
    """Correct every place the checked file changes, or none if any row has a problem."""
    district = place_name_import.get_district(current_user, unit_id)
    form = NamesCommitForm()
    if not form.validate_on_submit():
        flash(_("Choose the file again to correct the names."), "error")
        return redirect(url_for("geo.place_names", unit_id=district.id))
    filename, data = _upload(form.file)
    try:
        report = place_name_import.commit(
            current_user, district, filename, data, expected_sha256=form.sha256.data
        )
    except place_name_import.NamesFileError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("geo.place_names", unit_id=district.id))
    if not report.committed:
        db.session.rollback()
        return render_template(
            "geo/place_names_report.html", district=district, report=report, commit_form=None
        ), 409
    db.session.commit()
    flash(
        _(
            "%(count)s places have corrected names; %(unchanged)s rows changed nothing.",
            count=report.corrected,
            unchanged=report.unchanged,
        ),
        "success",
    )
    return redirect(url_for("geo.unit", unit_id=district.id))


@bp.get("/search", endpoint="search")
@requires(Permission.VIEW_GEOGRAPHY)
def search_places():
    """Find places in scope by name in either script, or by LGD code."""
    form = PlaceSearchForm(formdata=request.args)
    pager = too_short = None
    if form.q.data and form.validate():
        try:
            pager = place_service.search_places(
                current_user, form.q.data, page_arg(), language=current_language()
            )
        except place_service.QueryTooShort:
            too_short = True
    return render_template("geo/search.html", form=form, pager=pager, too_short=too_short)
