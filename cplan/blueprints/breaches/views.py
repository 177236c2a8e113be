"""The breach register (DPDP Rules 2025, Rule 7): list, record, update, export.

The SP office of a district and the state administrator record personal-data breaches; each
page counts down the reports still owed (CERT-In: 6 hours; the Board's full report: 72 hours
from when the breach was found).
"""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.breaches.forms import BreachForm
from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.pipelines import breach_export
from cplan.services import breaches
from cplan.services.errors import AlreadyDecided
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.kit import download, field_error

bp = Blueprint("breaches", __name__, url_prefix="/breaches")


@bp.get("/", endpoint="index")
@requires(Permission.MANAGE_BREACHES)
def list_breaches():
    """List the breaches recorded in the jurisdiction, the latest found first."""
    records = breaches.in_scope(current_user)
    return render_template(
        "breaches/index.html",
        records=records,
        deadlines={breach.id: breaches.deadlines(breach) for breach in records},
        now=utcnow(),
    )


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.MANAGE_BREACHES)
def record_breach():
    """Record a personal-data breach."""
    form = BreachForm()
    if form.validate_on_submit():
        try:
            breach = breaches.record(current_user, form.facts())
        except breaches.BreachError as error:
            db.session.rollback()
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("Breach recorded. The report windows run from when it was found."), "success")
            return redirect(url_for("breaches.show", breach_id=breach.id))
    return render_template("breaches/new.html", form=form)


@bp.route("/<int:breach_id>", methods=["GET", "POST"], endpoint="show")
@requires(Permission.MANAGE_BREACHES)
def show_breach(breach_id):
    """Show a breach with the reports still owed, and update it."""
    breach = breaches.get_in_scope(current_user, breach_id)
    form = BreachForm()
    if form.validate_on_submit():
        try:
            breaches.update_breach(
                current_user, breach.id, int(form.version.data or 0), form.facts()
            )
        except (breaches.BreachError, AlreadyDecided) as error:
            db.session.rollback()
            field_error(form, error)
            if isinstance(error, AlreadyDecided):
                breach = breaches.get_in_scope(current_user, breach_id)
                form = _form_of(breach, errors=form.form_errors)
        else:
            db.session.commit()
            flash(_("Breach updated."), "success")
            return redirect(url_for("breaches.show", breach_id=breach.id))
    elif not form.is_submitted():
        form = _form_of(breach)
    return render_template(
        "breaches/show.html",
        breach=breach,
        form=form,
        deadlines=breaches.deadlines(breach),
        now=utcnow(),
    )


@bp.post("/<int:breach_id>/export", endpoint="export")
@requires(Permission.MANAGE_BREACHES)
def export_breach(breach_id):
    """Download the breach's report as CSV (audited)."""
    breach = breaches.get_in_scope(current_user, breach_id)
    name, data = breach_export.report_csv(current_user, breach)
    db.session.commit()
    return download(name, "text/csv", data)


def _form_of(breach, errors=()):
    form = BreachForm(formdata=None)
    form.show(breach)
    form.form_errors.extend(errors)
    return form
