"""Election pages: the list of elections, a new election with its phases (the state control
room), one election with its phases and districts, and a file of phases (dry run, then the same
file again).

Elections are public knowledge and read by every post (``VIEW_ELECTIONS``); what lies in a
district (sensitive places, marked contacts) is read through the scope helpers.
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.elections.forms import (
    ElectionForm,
    PhasesCommitForm,
    PhasesFileForm,
)
from cplan.extensions import db
from cplan.pipelines import election_import
from cplan.services import elections
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.errors import explain
from cplan.web.kit import choices, field_error
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
