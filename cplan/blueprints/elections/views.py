"""Election pages: the list of elections, a new election with its phases (the state control
room), one election with its phases and districts, and a file of phases (dry run, then the same
file again).

Elections are public knowledge and read by every post (``VIEW_ELECTIONS``); what lies in a
district (sensitive places, marked contacts) is read through the scope helpers.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.elections.forms import (
    ConfirmForm,
    ElectionForm,
    GradeForm,
    GradesCommitForm,
    GradesFileForm,
    MarkForm,
    PhasesCommitForm,
    PhasesFileForm,
    PlaceFinderForm,
)
from cplan.extensions import db
from cplan.models.geo import Place
from cplan.pipelines import election_import, sensitive_place_import
from cplan.services import election_marks, elections, roster, sensitive_places
from cplan.services import places as place_service
from cplan.services.errors import AlreadyDecided
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import requires
from cplan.web.errors import explain
from cplan.web.kit import choices, field_error, flash_form_errors, flash_refusal
from cplan.web.templating import current_language

bp = Blueprint("elections", __name__, url_prefix="/elections")


@bp.get("/", endpoint="index")
@requires(Permission.VIEW_ELECTIONS)
def list_elections():
    """List the elections, the latest poll first."""
    return render_template(
        "elections/index.html",
        elections=elections.list_elections(),
        may_manage=elections.may_manage(current_user),
        today=elections.today(),
    )


def _district_choices(form: ElectionForm) -> None:
    options = choices((d.id, d.display_name(current_language())) for d in elections.districts())
    for entry in form.phases:
        entry.form.districts.choices = options


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.MANAGE_ELECTIONS)
def create():
    """Create an election with its phases and the districts that vote in each."""
    form = ElectionForm()
    _district_choices(form)
    if form.validate_on_submit():
        try:
            election = elections.create_election(
                current_user,
                kind=form.kind_value(),
                authority=form.authority_value(),
                name_en=form.name_en.data,
                name_hi=form.name_hi.data or "",
                notified_on=form.notified_on.data,
                phases=_phase_plans(form),
            )
        except elections.ElectionError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The election is created."), "success")
            return redirect(url_for("elections.show", election_id=election.id))
    db.session.rollback()
    return render_template("elections/new.html", form=form), 400 if form.is_submitted() else 200


def _phase_plans(form: ElectionForm) -> list[elections.PhasePlan]:
    """The filled phase rows, numbered in order; a row without a date is skipped."""
    by_id = {district.id: district for district in elections.districts()}
    plans = []
    for entry in form.phases:
        if entry.form.poll_date.data is None:
            continue
        plans.append(
            elections.PhasePlan(
                number=len(plans) + 1,
                poll_date=entry.form.poll_date.data,
                districts=[by_id[i] for i in entry.form.districts.data or [] if i in by_id],
            )
        )
    return plans


@bp.get("/<int:election_id>", endpoint="show")
@requires(Permission.VIEW_ELECTIONS)
def show(election_id):
    """Show an election: its phases with their poll dates and districts."""
    election = elections.get_election(election_id)
    return _election_page(election, PhasesFileForm())


def _election_page(election, form, status=200):
    return render_template(
        "elections/show.html",
        election=election,
        districts_by_phase=elections.phase_districts(election),
        my_districts=elections.districts_in_scope(current_user, election),
        may_manage=elections.may_manage(current_user),
        may_read_grades=current_user.can(Permission.VIEW_REPORTS),
        form=form,
        limits={
            "megabytes": election_import.MAX_FILE_BYTES // (1024 * 1024),
            "rows": f"{election_import.MAX_ROWS:,}",
        },
    ), status


def _upload(field) -> tuple[str, bytes]:
    return field.data.filename or "", field.data.read(election_import.MAX_FILE_BYTES + 1)


@bp.post("/<int:election_id>/phases/check", endpoint="check_phases")
@requires(Permission.MANAGE_ELECTIONS)
def check_phases(election_id):
    """Dry run of a file of phases: every problem by row and column; changes nothing."""
    election = elections.get_election(election_id)
    form = PhasesFileForm()
    if not form.validate_on_submit():
        return _election_page(election, form, 400)
    filename, data = _upload(form.file)
    try:
        report = election_import.dry_run(current_user, election, filename, data)
    except election_import.PhasesFileError as error:
        db.session.rollback()
        field_error(form, error, "file")
        return _election_page(election, form, 400)
    db.session.rollback()
    commit_form = (
        PhasesCommitForm(formdata=None, sha256=report.sha256)
        if report.ok and report.ready
        else None
    )
    return render_template(
        "elections/phases_report.html", election=election, report=report, commit_form=commit_form
    )


@bp.post("/<int:election_id>/phases/commit", endpoint="commit_phases")
@requires(Permission.MANAGE_ELECTIONS)
def commit_phases(election_id):
    """Add every phase and district of the checked file, or none if any row has a problem."""
    election = elections.get_election(election_id)
    form = PhasesCommitForm()
    if not form.validate_on_submit():
        flash(_("Choose the file again to add the phases."), "error")
        return redirect(url_for("elections.show", election_id=election.id))
    filename, data = _upload(form.file)
    try:
        report = election_import.commit(
            current_user, election, filename, data, expected_sha256=form.sha256.data
        )
    except election_import.PhasesFileError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("elections.show", election_id=election.id))
    if not report.committed:
        db.session.rollback()
        return render_template(
            "elections/phases_report.html", election=election, report=report, commit_form=None
        ), 409
    db.session.commit()
    flash(_("%(count)s districts are added to the phases.", count=report.added), "success")
    return redirect(url_for("elections.show", election_id=election.id))


# ---- sensitive places ----------------------------------------------------------------------


def _grades_page(election, district, file_form=None, status=200):
    finder = PlaceFinderForm(request.args)
    found = []
    query = (finder.q.data or "").strip()
    if query and sensitive_places.may_grade(current_user):
        try:
            found = [
                place
                for place in place_service.search_places(
                    current_user, query, language=current_language()
                ).items
                if place.district_id == district.id
            ]
        except place_service.QueryTooShort:
            finder.q.errors = [_("Type at least two letters, or a complete LGD code.")]
    grades = sensitive_places.grades_of(current_user, election, district)
    return render_template(
        "elections/sensitive_places.html",
        election=election,
        district=district,
        grades=grades,
        counts=sensitive_places.counts_by_level(grades),
        may_grade=sensitive_places.may_grade(current_user),
        finder=finder,
        found=found,
        clear_form=ConfirmForm(formdata=None),
        form=file_form or GradesFileForm(formdata=None),
        limits={
            "megabytes": sensitive_place_import.MAX_FILE_BYTES // (1024 * 1024),
            "rows": f"{sensitive_place_import.MAX_ROWS:,}",
        },
    ), status


@bp.get("/<int:election_id>/districts/<int:unit_id>/sensitive-places", endpoint="sensitive_places")
@requires(Permission.VIEW_REPORTS)
def list_sensitive_places(election_id, unit_id):
    """List a district's sensitive places for an election, most sensitive first."""
    election = elections.get_election(election_id)
    district = sensitive_places.get_district(current_user, election, unit_id)
    return _grades_page(election, district)


@bp.route(
    "/<int:election_id>/places/<int:place_id>/grade", methods=["GET", "POST"], endpoint="grade"
)
@requires(Permission.MANAGE_SENSITIVE_PLACES)
def grade_place(election_id, place_id):
    """Grade a place (or a booth location in it) for an election, or change its grade."""
    election = elections.get_election(election_id)
    place = get_in_scope(current_user, Place, place_id)
    district = sensitive_places.get_district(current_user, election, place.district_id)
    booth = (request.args.get("booth") or "")[:200]
    current = next(
        (
            g
            for g in sensitive_places.grades_of(current_user, election, district)
            if g.place_id == place.id and g.booth == booth
        ),
        None,
    )
    data = None
    if current is not None:
        data = {
            "level": current.level.value,
            "reasons": [r.value for r in current.reason_codes],
            "note": current.note,
            "reference": current.reference,
            "booth": current.booth,
        }
    form = GradeForm(data=data)
    if form.validate_on_submit():
        try:
            sensitive_places.set_grade(
                current_user,
                election,
                place,
                level=form.level.data,
                reasons=form.reasons.data,
                note=form.note.data,
                reference=form.reference.data,
                booth=form.booth.data,
            )
        except sensitive_places.SensitivityError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The place is graded."), "success")
            return redirect(
                url_for("elections.sensitive_places", election_id=election.id, unit_id=district.id)
            )
    db.session.rollback()
    return render_template(
        "elections/grade.html",
        election=election,
        place=place,
        district=district,
        form=form,
        current=current,
    ), 400 if form.is_submitted() else 200


@bp.post("/sensitive-places/<int:grade_id>/clear", endpoint="clear_grade")
@requires(Permission.MANAGE_SENSITIVE_PLACES)
def clear_grade(grade_id):
    """Take a place's grade off (the audit trail keeps it)."""
    grade = sensitive_places.get_grade(current_user, grade_id)
    election_id, district_id = grade.election_id, grade.place.district_id
    form = ConfirmForm()
    if form.validate_on_submit():
        sensitive_places.clear_grade(current_user, grade)
        db.session.commit()
        flash(_("The grade is cleared."), "success")
    return redirect(
        url_for("elections.sensitive_places", election_id=election_id, unit_id=district_id)
    )


@bp.post(
    "/<int:election_id>/districts/<int:unit_id>/sensitive-places/check", endpoint="check_grades"
)
@requires(Permission.MANAGE_SENSITIVE_PLACES)
def check_grades(election_id, unit_id):
    """Dry run of a file of sensitive places: every problem by row and column."""
    election = elections.get_election(election_id)
    district = sensitive_places.get_district(current_user, election, unit_id)
    form = GradesFileForm()
    if not form.validate_on_submit():
        return _grades_page(election, district, form, 400)
    filename, data = _upload(form.file)
    try:
        report = sensitive_place_import.dry_run(current_user, election, district, filename, data)
    except sensitive_place_import.GradesFileError as error:
        db.session.rollback()
        field_error(form, error, "file")
        return _grades_page(election, district, form, 400)
    db.session.rollback()
    commit_form = (
        GradesCommitForm(formdata=None, sha256=report.sha256)
        if report.ok and report.ready
        else None
    )
    return render_template(
        "elections/grades_report.html",
        election=election,
        district=district,
        report=report,
        commit_form=commit_form,
    )


@bp.post(
    "/<int:election_id>/districts/<int:unit_id>/sensitive-places/commit", endpoint="commit_grades"
)
@requires(Permission.MANAGE_SENSITIVE_PLACES)
def commit_grades(election_id, unit_id):
    """Grade every place of the checked file, or none if any row has a problem."""
    election = elections.get_election(election_id)
    district = sensitive_places.get_district(current_user, election, unit_id)
    back = url_for("elections.sensitive_places", election_id=election.id, unit_id=district.id)
    form = GradesCommitForm()
    if not form.validate_on_submit():
        flash(_("Choose the file again to grade the places."), "error")
        return redirect(back)
    filename, data = _upload(form.file)
    try:
        report = sensitive_place_import.commit(
            current_user, election, district, filename, data, expected_sha256=form.sha256.data
        )
    except sensitive_place_import.GradesFileError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(back)
    if not report.committed:
        db.session.rollback()
        return render_template(
            "elections/grades_report.html",
            election=election,
            district=district,
            report=report,
            commit_form=None,
        ), 409
    db.session.commit()
    flash(_("%(count)s places are graded.", count=report.graded), "success")
    return redirect(back)


# ---- contacts' election marks ---------------------------------------------------------------


@bp.post("/contacts/<int:contact_id>/mark", endpoint="mark_contact")
@requires(Permission.MARK_CONTACTS)
def mark_contact(contact_id):
    """Mark a contact as a candidate, agent, office-bearer or candidate's relative."""
    contact = roster.get_visible_contact(current_user, contact_id)
    form = MarkForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        try:
            election_marks.mark_contact(current_user, contact, form.role.data, form.note.data)
        except election_marks.MarkError as error:
            db.session.rollback()
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The contact is marked and left out of neutral verification lists."), "success")
    return redirect(url_for("roster.contact", contact_id=contact.id))


@bp.post("/marks/<int:mark_id>/end", endpoint="end_mark")
@requires(Permission.UNMARK_CONTACTS)
def end_mark(mark_id):
    """End a contact's election mark (the ASP and above)."""
    mark = election_marks.get_mark(current_user, mark_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            election_marks.unmark(current_user, mark)
        except AlreadyDecided as error:
            db.session.rollback()
            flash_refusal(error)
        else:
            db.session.commit()
            flash(_("The mark is ended."), "success")
    return redirect(url_for("roster.contact", contact_id=mark.contact_id))
