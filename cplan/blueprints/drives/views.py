"""Drive pages: the list, opening a drive, a drive's progress, and "verify next".

Thin views: form -> ``cplan.services.drives`` -> one commit -> flash -> redirect. A drive is
loaded through ``drives.get_drive`` (one outside the post's area answers 404), a task through
``drives.get_task``. "Verify next" is the station's page: one contact at a time, most sensitive
village first, with a Call button and one-tap outcomes; the number is shown in full because
only station posts record outcomes.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan import formats
from cplan.blueprints.drives.forms import (
    METHOD_LABELS,
    CloseDriveForm,
    OpenDriveForm,
    OutcomeForm,
    RetryOpeningForm,
)
from cplan.blueprints.enrolment.forms import CorrectionForm, RemovalForm
from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.drives import DriveState
from cplan.models.geo import Unit, UnitKind
from cplan.pipelines import drive_export
from cplan.pipelines.tables import CSV_MIMETYPE
from cplan.services import audit, drives, enrolment, roster
from cplan.services.errors import DomainError
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.kit import (
    ascii_int,
    choices,
    download,
    field_error,
    flash_refusal,
    id_arg,
    page_arg,
)
from cplan.web.templating import current_language, localised_name

bp = Blueprint("drives", __name__, url_prefix="/drives")


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_DRIVES)
def list_drives():
    """The drives covering the post's area or inside it, open ones first."""
    return render_template("drives/index.html", drives=drives.drives_for(current_user))


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.OPEN_DRIVES)
def open_drive():
    """Open a re-verification drive for a district (or the state, or a phase's districts)."""
    form = OpenDriveForm()
    form.scope_unit_id.choices = choices(
        (str(unit.id), localised_name(unit)) for unit in drives.scope_choices(current_user)
    )
    form.phase_id.choices = choices(
        (
            (
                str(phase.id),
                _(
                    "%(election)s, phase %(number)s (poll %(date)s)",
                    election=(current_language() == "hi" and phase.election.name_hi)
                    or phase.election.name_en,
                    number=phase.number,
                    date=phase.poll_date.isoformat(),
                ),
            )
            for phase in drives.phase_choices()
        ),
        blank=_("No election phase (the whole area)"),
    )
    if form.validate_on_submit():
        try:
            drive = drives.open_drive(
                current_user,
                scope_unit_id=ascii_int(form.scope_unit_id.data),
                phase_id=ascii_int(form.phase_id.data),
                opens_on=form.opens_on.data,
                due_on=form.due_on.data,
                max_age_days=ascii_int(form.max_age_days.data),
                name=form.name.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            if drive.state == DriveState.OPENING:
                flash(
                    _(
                        "Drive recorded: the worker is now creating its tasks. This page shows "
                        "when it is open."
                    ),
                    "success",
                )
            else:
                flash(
                    _("Drive opened with %(count)s contacts to verify.", count=drive.task_count),
                    "success",
                )
            return redirect(url_for("drives.show", drive_id=drive.id))
    status = 400 if form.is_submitted() else 200
    return render_template("drives/new.html", form=form), status


@bp.get("/<int:drive_id>", endpoint="show")
@requires(Permission.VIEW_DRIVES)
def show_drive(drive_id):
    """A drive's progress over one area (the post's own by default, ``?unit=`` to drill down)."""
    drive = drives.get_drive(current_user, drive_id)
    unit_id = id_arg("unit")
    if unit_id is not None:
        unit = get_in_scope(current_user, Unit, unit_id)
    elif current_user.unit.contains(drive.scope_unit):
        unit = drive.scope_unit
    else:
        unit = current_user.unit
    progress = drives.progress_of(current_user, drive, unit)
    return render_template(
        "drives/show.html",
        drive=drive,
        progress=progress,
        station_view=unit.kind == UnitKind.STATION,
        can_verify=current_user.can(Permission.VERIFY_CONTACTS) and drive.state == DriveState.OPEN,
        close_form=CloseDriveForm(formdata=None),
        retry_form=RetryOpeningForm(formdata=None),
        levels=drives.SENSITIVITY_LABELS,
        export_unit=unit if unit.kind == UnitKind.DISTRICT else None,
    )


@bp.get("/<int:drive_id>/export", endpoint="export")
@requires(Permission.VIEW_DRIVES)
def export_progress(drive_id):
    """The district's progress as a CSV file (formula-safe; one audit event per file)."""
    drive = drives.get_drive(current_user, drive_id)
    district = get_in_scope(current_user, Unit, id_arg("unit") or 0)
    data, _rows = drive_export.progress_csv(current_user, drive, district, current_language())
    db.session.commit()
    stamp = formats.file_name_stamp(utcnow())
    return download(f"drive-{drive.id}-progress-{stamp}.csv", CSV_MIMETYPE, data)


@bp.post("/<int:drive_id>/close", endpoint="close")
@requires(Permission.OPEN_DRIVES)
def close_drive(drive_id):
    """Close a drive: no more outcomes are recorded in it."""
    try:
        drives.close_drive(current_user, drive_id)
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_("Drive closed."), "success")
    return redirect(url_for("drives.show", drive_id=drive_id))


@bp.post("/<int:drive_id>/retry", endpoint="retry")
@requires(Permission.OPEN_DRIVES)
def retry_opening(drive_id):
    """Ask the worker again to open a drive whose opening failed."""
    try:
        drives.retry_opening(current_user, drive_id)
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
    else:
        db.session.commit()
        flash(_("The worker will try again to open the drive."), "success")
    return redirect(url_for("drives.show", drive_id=drive_id))


# ---- verify next -------------------------------------------------------------------------------


def _station_of_post():
    unit = current_user.unit
    return unit if unit.kind == UnitKind.STATION else None


@bp.get("/<int:drive_id>/next", endpoint="next")
@requires(Permission.VERIFY_CONTACTS)
def verify_next(drive_id):
    """The station's next contact to verify: name, village, a Call button, one-tap outcomes."""
    drive = drives.get_drive(current_user, drive_id)
    station = _station_of_post()
    task = None
    if station is not None and drive.state == DriveState.OPEN:
        task = drives.next_task(current_user, drive, station)
    progress = drives.progress_of(current_user, drive, station) if station else None
    page = render_template(
        "drives/next.html",
        drive=drive,
        task=task,
        progress=progress,
        full=roster.sees_full_numbers(current_user),
        methods=METHOD_LABELS,
        levels=drives.SENSITIVITY_LABELS,
    )
    if task is not None:
        # A full number on screen: who saw which citizen is kept, as for a roster view.
        drives.record_next_viewed(current_user, drive, task, station)
        db.session.commit()
    return page


@bp.post("/tasks/<int:task_id>", endpoint="record")
@requires(Permission.VERIFY_CONTACTS)
def record_outcome(task_id):
    """One tap: confirmed or not reachable, then the next contact."""
    task = drives.get_task(current_user, task_id)
    drive_id = task.drive_id
    form = OutcomeForm()
    outcome = request.form.get("outcome", "")
    version = ascii_int(form.version.data)
    if not form.validate_on_submit() or version is None or outcome not in drives.OUTCOME_CHOICES:
        flash(_("Choose an outcome."), "error")
        return redirect(url_for("drives.next", drive_id=drive_id))
    try:
        recorded = drives.record_outcome(
            current_user, task.id, version, outcome, method=form.method.data or "call"
        )
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
    else:
        name = recorded.contact.display_name(current_language())
        db.session.commit()
        flash(_message(recorded.state.value, name, recorded.attempts), "success")
    return redirect(url_for("drives.next", drive_id=drive_id))


def _message(state: str, name: str, attempts: int) -> str:
    if state == "confirmed":
        return _("%(name)s confirmed.", name=name)
    if state == "unreachable":
        return _("%(name)s was not reachable on three days: flagged.", name=name)
    if state == "pending":
        return _("%(name)s not reachable (attempt %(count)s).", name=name, count=attempts)
    return _("%(name)s recorded; the ASP will decide the change.", name=name)


def _change_page(task_id: int, form, template: str, save):
    """Changed or no longer suitable: the details or the reason, then the next contact."""
    task = drives.get_task(current_user, task_id)
    contact = task.contact
    checking = getattr(form, "checking_spelling", None)
    if checking is not None and checking():
        form.propose_spelling()
    elif form.validate_on_submit():
        version = ascii_int(request.form.get("version"))
        try:
            save(task, version if version is not None else -1)
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_message("changed", contact.display_name(current_language()), 0), "success")
            return redirect(url_for("drives.next", drive_id=task.drive_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        template, form=form, task=task, contact=contact, place=contact.place
    ), status


@bp.route("/tasks/<int:task_id>/changed", methods=["GET", "POST"], endpoint="changed")
@requires(Permission.VERIFY_CONTACTS)
def changed(task_id):
    """Reached, but the details changed: the new ones go to the ASP as a correction."""
    task = drives.get_task(current_user, task_id)
    contact = task.contact
    form = CorrectionForm(
        data={
            "name": contact.name,
            "name_other": "" if contact.name_other_generated else contact.name_other,
            "mobile": contact.mobile or "",
            "mobile_alt": contact.mobile_alt or "",
            "whatsapp": contact.whatsapp,
            "category": contact.category.value,
        }
    )
    return _change_page(
        task_id,
        form,
        "drives/changed.html",
        lambda task, version: drives.record_outcome(
            current_user, task.id, version, "changed", details=form.details(task.contact)
        ),
    )


@bp.route("/tasks/<int:task_id>/unsuitable", methods=["GET", "POST"], endpoint="unsuitable")
@requires(Permission.VERIFY_CONTACTS)
def unsuitable(task_id):
    """No longer suitable (moved away, deceased, declined, now a candidate): a removal."""
    form = RemovalForm()
    return _change_page(
        task_id,
        form,
        "drives/unsuitable.html",
        lambda task, version: drives.record_outcome(
            current_user,
            task.id,
            version,
            "unsuitable",
            reason=form.reason.data,
            note=form.note.data or "",
        ),
    )


# ---- out-of-date contacts ----------------------------------------------------------------------


@bp.get("/out-of-date", endpoint="out_of_date")
@requires(Permission.VIEW_DRIVES)
def list_out_of_date():
    """A station's contacts not verified within the policy, sensitive villages first."""
    unit_id = id_arg("unit")
    station = _station_of_post()
    if unit_id is not None:
        station = get_in_scope(current_user, Unit, unit_id)
        if station.kind != UnitKind.STATION:
            station = None
    if station is None:
        return render_template(
            "drives/out_of_date.html",
            station=None,
            stations=enrolment.queue_stations(current_user),
            policy_days=drives.policy_days(),
        )
    page = page_arg()
    rows, total = drives.out_of_date_contacts(current_user, station, page=page)
    full = roster.sees_full_numbers(current_user)
    response = render_template(
        "drives/out_of_date.html",
        station=station,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // 25)),
        full=full,
        levels=drives.SENSITIVITY_LABELS,
        policy_days=drives.policy_days(),
    )
    if full and rows:
        # Full numbers on screen: who saw which citizens is kept, as for a roster view.
        audit.record(
            "drive.out_of_date_viewed",
            actor=current_user,
            unit=station,
            detail={"contacts": len(rows), "page": page},
        )
        db.session.commit()
    return response
