"""Roster files: import template, bulk import and station group lists (``/roster-files``).

Import is two stateless steps: ``check`` reads the uploaded file and shows every problem by row
and column without writing anything; ``commit`` takes the same file again (its SHA-256 from the
check rides in a hidden field), checks it again and imports every row or none, then one commit
and a redirect. Export answers with a download (nothing written to disk) after writing the
audit event; it needs a fresh sign-in (the password within 10 minutes) and counts against the
officer's daily limit of exports with full numbers (a refusal is audited as
``roster.export_refused``). Places and stations are loaded within the post's subtree: out of
scope is 404.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.transfer.forms import CheckForm, CommitForm, ExportForm
from cplan.extensions import db
from cplan.pipelines import roster_export, roster_import
from cplan.services import audit
from cplan.services.permissions import Permission
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import explain
from cplan.web.kit import download, field_error, id_arg
from cplan.web.templating import current_language, localised_name

bp = Blueprint("transfer", __name__, url_prefix="/roster-files")


def _require_import():
    if not roster_import.may_import(current_user):
        abort(403)


def _read_upload(field) -> tuple[str, bytes]:
    """The uploaded file's name and at most one byte more than the limit (enough to refuse it)."""
    storage = field.data
    return storage.filename or "", storage.read(roster_import.MAX_FILE_BYTES + 1)


def _can_export() -> bool:
    return current_user.can(Permission.EXPORT_ROSTER)


@bp.get("/")
@requires(Permission.VIEW_ROSTER)
def index():
    """Import contacts from a file, or export a station group list."""
    can_import = roster_import.may_import(current_user)
    if not can_import and not _can_export():
        abort(403)
    return render_template(
        "transfer/index.html",
        form=CheckForm() if can_import else None,
        can_import=can_import,
        can_export=_can_export(),
        limits=_limits(),
    )


def _limits() -> dict:
    return {
        "megabytes": roster_import.MAX_FILE_BYTES // (1024 * 1024),
        "rows": f"{roster_import.MAX_ROWS:,}",
    }


@bp.get("/template/<language>.<file_format>")
@requires(Permission.VIEW_ROSTER)
def template(language, file_format):
    """Download the empty import template (CSV or XLSX, English or Hindi headers)."""
    _require_import()
    try:
        filename, mimetype, content = roster_import.template_file(file_format, language)
    except ValueError:
        abort(404)
    return download(filename, mimetype, content)


@bp.post("/import/check")
@requires(Permission.VIEW_ROSTER)
def check():
    """Dry run: read the file and report every problem by row and column; saves nothing."""
    _require_import()
    form = CheckForm()
    if not form.validate_on_submit():
        return render_template(
            "transfer/index.html",
            form=form,
            can_import=True,
            can_export=_can_export(),
            limits=_limits(),
        ), 400
    filename, data = _read_upload(form.file)
    try:
        report = roster_import.dry_run(current_user, filename, data)
    except roster_import.RosterFileError as error:
        db.session.rollback()
        field_error(form, error)
        return render_template(
            "transfer/index.html",
            form=form,
            can_import=True,
            can_export=_can_export(),
            limits=_limits(),
        ), 400
    db.session.rollback()  # a dry run changes nothing
    commit_form = (
        CommitForm(formdata=None, sha256=report.sha256) if report.ok and report.ready else None
    )
    return render_template("transfer/report.html", report=report, commit_form=commit_form)


@bp.post("/import/commit")
@requires(Permission.VIEW_ROSTER)
def commit():
    """Import every row of the checked file as pending enrolments, or none if any row has a
    problem."""
    _require_import()
    form = CommitForm()
    if not form.validate_on_submit():
        flash(_("Choose the file again to import it."), "error")
        return redirect(url_for("transfer.index"))
    filename, data = _read_upload(form.file)
    try:
        report = roster_import.commit(
            current_user, filename, data, expected_sha256=form.sha256.data
        )
    except roster_import.RosterFileError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("transfer.index"))
    if not report.committed:
        db.session.rollback()
        return render_template("transfer/report.html", report=report, commit_form=None), 409
    db.session.commit()
    flash(
        _(
            "%(created)s contacts imported; they wait for the ASP's approval. %(already)s rows "
            "were already enrolled and were skipped.",
            created=report.created,
            already=len(report.already),
        ),
        "success",
    )
    return redirect(url_for("transfer.index"))


@bp.route("/export", methods=["GET", "POST"])
@requires(Permission.EXPORT_ROSTER)
@fresh_sign_in()
def export():
    """Download a station's or one place's active contacts (CSV, XLSX or vCard) with a reason."""
    language = current_language()
    stations = roster_export.stations_in_scope(current_user)
    form = ExportForm([(station.id, localised_name(station)) for station in stations])
    place_id = id_arg("place_id")
    if request.method == "GET" and place_id is not None:
        place = roster_export.place_in_scope(current_user, place_id)
        form.station.data, form.place_code.data = place.station_id, place.lgd_code
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _export_page(form), status
    station = roster_export.station_in_scope(current_user, form.station.data)
    place = None
    if (form.place_code.data or "").strip():
        place = roster_export.place_with_code(current_user, station, form.place_code.data)
        if place is None:
            form.place_code.errors.append(
                _("No place with this code in the chosen police station.")
            )
            return _export_page(form), 400
    try:
        result = roster_export.export(
            current_user,
            form.file_format.data,
            form.reason.data,
            form.note.data,
            station=None if place else station,
            place=place,
            language=language,
        )
    except roster_export.ExportLimitReached as error:
        db.session.rollback()
        # Kept, so the SP office sees who tried to export beyond the limit.
        audit.record(
            "roster.export_refused",
            actor=current_user,
            outcome="denied",
            target=place or station,
            detail={
                "format": form.file_format.data,
                "reason": form.reason.data,
                "limit": error.limit,
            },
        )
        db.session.commit()
        field_error(form, error)
        return _export_page(form), 429
    except roster_export.ExportError as error:
        db.session.rollback()
        field_error(form, error)
        return _export_page(form), 400
    db.session.commit()
    return download(result.filename, result.mimetype, result.content)


def _export_page(form):
    return render_template(
        "transfer/export.html",
        form=form,
        limit=roster_export.daily_limit(),
        left=roster_export.exports_left_today(current_user),
    )
