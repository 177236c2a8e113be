"""The enrolment pages: the ASP's approval queue, proposals, station staff's corrections,
removals and resubmissions, their own submissions, erasure, and a contact's history.

Thin views: form -> ``cplan.services.enrolment`` -> one commit -> flash -> redirect. Contacts are
loaded through ``roster.get_visible_contact``, so anything outside the post's subtree answers 404.
Every decision names the version the officer saw; when someone else decided first the page says
who and when (in IST) instead of deciding twice.
"""

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from cplan.blueprints.enrolment.forms import (
    BulkApproveForm,
    CorrectionForm,
    DecisionForm,
    EraseForm,
    MoveForm,
    QueueFilterForm,
    RejectForm,
    RemovalForm,
    parse_picks,
)
from cplan.blueprints.roster.forms import EnrolForm
from cplan.extensions import db
from cplan.models.geo import Place
from cplan.models.roster import Contact, ContactCategory, ContactStatus, InactiveReason
from cplan.services import enrolment, roster
from cplan.services.enrolment import QueueFilters
from cplan.services.errors import DomainError, WorkflowError
from cplan.services.permissions import Permission
from cplan.services.scope import get_in_scope
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import explain, refusal_message
from cplan.web.kit import (
    ascii_int,
    choices,
    field_error,
    filter_args,
    flash_form_errors,
    flash_refusal,
    page_arg,
    safe_next_url,
)
from cplan.web.templating import approval_counts, localised_name

bp = Blueprint("enrolment", __name__, url_prefix="/enrolments")

FILTER_ARGS = ("station", "place", "category", "submitter", "age", "q", "sort")
AGES = {"3", "7", "14", "30"}


def _back(target: str | None, default: str) -> str:
    """Only our own enrolment pages are followed back to (no open redirect)."""
    return safe_next_url((target or "").strip(), within="/enrolments") or default


# ---- the approval queue ------------------------------------------------------------------------


def waited_text(waited: timedelta) -> str:
    """How long an enrolment has waited, in whole days ("3 days"), or hours on its first day."""
    if waited >= timedelta(days=1):
        return ngettext("%(num)s day", "%(num)s days", waited.days)
    hours = int(waited.total_seconds() // 3600)
    if hours >= 1:
        return ngettext("%(num)s hour", "%(num)s hours", hours)
    return _("less than an hour")


def _queue_filters(form: QueueFilterForm) -> tuple[QueueFilters, dict]:
    """The filters from the query string, each used only when valid; and the arguments that
    keep them in links."""
    stations = enrolment.queue_stations(current_user)
    form.station.choices = choices(
        ((str(s.id), localised_name(s)) for s in stations), _("Any station")
    )
    station = next((s for s in stations if str(s.id) == form.station.data), None)
    places = enrolment.station_places(current_user, station) if station else []
    form.place.choices = choices(
        ((str(p.id), localised_name(p)) for p in places), _("Any village or ward")
    )
    place = next((p for p in places if str(p.id) == form.place.data), None)
    category = (
        form.category.data if form.category.data in {c.value for c in ContactCategory} else None
    )
    submitter = (form.submitter.data or "").strip().upper()[:20] or None
    age = form.age.data if form.age.data in AGES else None
    filters = QueueFilters(
        station_id=station.id if station else None,
        place_id=place.id if place else None,
        category=category,
        submitter_pno=submitter,
        older_than_days=int(age) if age else None,
        text=" ".join((form.q.data or "").split())[:100] or None,
        newest_first=form.sort.data == "new",
    )
    args = filter_args(FILTER_ARGS)
    return filters, args


@bp.get("/", endpoint="queue")
@requires(Permission.APPROVE_ENROLMENT)
def show_queue():
    """List the pending enrolments of the post's scope, oldest first, with filters and decisions."""
    form = QueueFilterForm(request.args)
    filters, args = _queue_filters(form)
    pager = enrolment.queue_page(current_user, filters, page=page_arg())
    now = roster.now()
    sla = timedelta(days=enrolment.sla_days())
    rows = [
        (contact, waited_text(now - contact.enrolled_at), now - contact.enrolled_at > sla)
        for contact in pager.items
    ]
    return render_template(
        "enrolment/queue.html",
        form=form,
        pager=pager,
        rows=rows,
        args=args,
        sla_days=enrolment.sla_days(),
        back=request.full_path.rstrip("?"),
        decision_form=DecisionForm(formdata=None),
        counts=approval_counts(),
    )


def _decided(form: DecisionForm, action: str, queue: str, decide, done) -> object:
    """One decision from a queue: ``decide(version, action, reason, note)`` (the service, a
    compare-and-set on the version the officer saw), one commit and ``done(decided)`` flashed,
    then back to the queue page the officer came from; a refusal is flashed instead."""
    back = _back(form.back.data, url_for(queue))
    if not form.validate_on_submit():
        db.session.rollback()
        flash_form_errors(form)
        return redirect(back)
    reason = form.reason.data if action == "reject" else ""
    note = form.note.data if action == "reject" else ""
    try:
        decided = decide(int(form.version.data), action, reason, note)
    except DomainError as error:
        flash_refusal(error)
        db.session.rollback()
        return redirect(back)
    message = done(decided)
    db.session.commit()
    flash(message, "success")
    return redirect(back)


def _decide(contact_id: int, form: DecisionForm, action: str):
    def done(contact):
        if action == "approve":
            return _("%(name)s is approved and joins the roster.", name=contact.display_name())
        return _(
            "%(name)s is rejected; the station can correct and resubmit it.",
            name=contact.display_name(),
        )

    return _decided(
        form,
        action,
        "enrolment.queue",
        lambda *decision: enrolment.decide_enrolment(current_user, contact_id, *decision),
        done,
    )


@bp.post("/<int:contact_id>/approve", endpoint="approve")
@requires(Permission.APPROVE_ENROLMENT)
def approve(contact_id):
    """Approve one pending enrolment (compare-and-set on the version shown)."""
    return _decide(contact_id, DecisionForm(), "approve")


@bp.route("/<int:contact_id>/reject", methods=["GET", "POST"], endpoint="reject")
@requires(Permission.APPROVE_ENROLMENT)
def reject(contact_id):
    """Reject one pending enrolment with a reason and a note (GET: the form, from the queue).

    The queue links here rather than carrying a rejection form in each of its rows, which kept
    the page over a weak 3G link's budget. The link passes the version the ASP saw, so a change
    in between is refused by the compare-and-set like any stale decision.
    """
    if request.method == "POST":
        return _decide(contact_id, RejectForm(), "reject")
    contact = roster.get_visible_contact(current_user, contact_id)
    back = _back(request.args.get("back"), url_for("enrolment.queue"))
    if contact.status != ContactStatus.PENDING:
        flash(_("This enrolment has been decided already."), "warning")
        return redirect(back)
    seen = ascii_int(request.args.get("version")) or contact.version
    form = RejectForm(formdata=None, version=str(seen), back=back)
    return render_template(
        "enrolment/reject.html", contact=contact, place=contact.place, form=form, back=back
    )


@bp.get("/bulk", endpoint="bulk_confirm")
@requires(Permission.APPROVE_ENROLMENT)
def confirm_bulk():
    """Ask "Approve N enrolments?" for the ticked rows of the queue, listing them."""
    picks = parse_picks(request.args.getlist("pick"))
    back = _back(request.args.get("back"), url_for("enrolment.queue"))
    try:
        enrolment.check_bulk_ids(current_user, picks)
    except enrolment.BulkRefused as error:
        return _bulk_refused(error, len(picks), back)
    contacts = [c for c in enrolment.pending_for_bulk(current_user, picks) if c.id in picks]
    if not contacts:
        flash(_("Tick the enrolments to approve first."), "error")
        return redirect(back)
    return render_template(
        "enrolment/bulk_confirm.html",
        contacts=contacts,
        picks=picks,
        gone=len(picks) - len(contacts),
        form=BulkApproveForm(formdata=None, back=back),
        back=back,
    )


@bp.post("/bulk", endpoint="bulk_approve")
@requires(Permission.APPROVE_ENROLMENT)
def approve_bulk():
    """Approve the confirmed enrolments, each exactly once; report what was skipped and why."""
    form = BulkApproveForm()
    back = _back(form.back.data, url_for("enrolment.queue"))
    picks = parse_picks(request.form.getlist("pick"))
    if not form.validate_on_submit() or not picks:
        db.session.rollback()
        flash(_("Tick the enrolments to approve first."), "error")
        return redirect(back)
    try:
        outcome = enrolment.bulk_approve(current_user, picks)
    except enrolment.BulkRefused as error:
        return _bulk_refused(error, len(picks), back)
    skipped = []
    for contact_id, _text in outcome.skipped:
        contact = db.session.scalar(
            db.select(Contact).where(
                Contact.id == contact_id, roster.visible_condition(current_user)
            )
        )
        name = contact.display_name() if contact else f"#{contact_id}"
        skipped.append(
            _(
                "%(name)s was not approved: %(why)s",
                name=name,
                why=refusal_message(outcome.errors.get(contact_id, WorkflowError(_text))),
            )
        )
    db.session.commit()
    count = len(outcome.approved)
    flash(ngettext("%(num)s enrolment approved.", "%(num)s enrolments approved.", count), "success")
    if skipped:
        flash(ngettext("%(num)s skipped:", "%(num)s skipped:", len(skipped)), "warning")
        for message in skipped:
            flash(message, "warning")
    return redirect(back)


def _bulk_refused(error: enrolment.BulkRefused, asked: int, back: str):
    """Nothing decided: say so, and keep the attempt in the audit trail."""
    db.session.rollback()
    enrolment.record_bulk_refusal(current_user, error, asked)
    db.session.commit()
    flash(explain(error), "error")
    return redirect(back)


# ---- proposals: corrections and removals --------------------------------------------------------


@bp.get("/proposals", endpoint="proposals")
@requires(Permission.APPROVE_ENROLMENT)
def show_proposals():
    """List pending corrections (as before/after comparisons) and removals, oldest first."""
    pager = enrolment.pending_proposals(current_user, page=page_arg())
    items = [
        (proposal, enrolment.comparison(proposal) if proposal.kind == "correction" else None)
        for proposal in pager.items
    ]
    return render_template(
        "enrolment/proposals.html",
        pager=pager,
        items=items,
        back=request.full_path.rstrip("?"),
        reject_form=RejectForm(formdata=None),
        decision_form=DecisionForm(formdata=None),
    )


def _decide_proposal(proposal_id: int, form: DecisionForm, action: str):
    def done(_proposal):
        if action == "approve":
            return _("The change is approved and the roster updated.")
        return _("The change is rejected; the roster keeps its values.")

    return _decided(
        form,
        action,
        "enrolment.proposals",
        lambda *decision: enrolment.decide_proposal(current_user, proposal_id, *decision),
        done,
    )


@bp.post("/proposals/<int:proposal_id>/approve", endpoint="approve_proposal")
@requires(Permission.APPROVE_ENROLMENT)
def approve_proposal(proposal_id):
    """Approve a proposed correction or removal (it is applied to the roster)."""
    return _decide_proposal(proposal_id, DecisionForm(), "approve")


@bp.post("/proposals/<int:proposal_id>/reject", endpoint="reject_proposal")
@requires(Permission.APPROVE_ENROLMENT)
def reject_proposal(proposal_id):
    """Reject a proposed correction or removal with a reason."""
    return _decide_proposal(proposal_id, RejectForm(), "reject")


# ---- station staff: corrections, moves, removals, resubmission ----------------------------------


def _render_change(template: str, form, contact: Contact, **context):
    db.session.rollback()
    checking = getattr(form, "checking_spelling", None)
    status = (
        400
        if form.is_submitted() and not (checking and checking() and not form.name.errors)
        else 200
    )
    return render_template(
        template, form=form, contact=contact, place=contact.place, **context
    ), status


def _refused(check, contact: Contact, back: str | None = None):
    """None when the service's precondition ``check(contact)`` holds; else back to the contact's
    page (or ``back``) with the service's reason, before any form is shown."""
    try:
        check(contact)
    except DomainError as error:
        flash(explain(error), "error")
        return redirect(back or url_for("roster.contact", contact_id=contact.id))
    return None


def _change_page(contact: Contact, form, template: str, save, done, **context):
    """A page that changes a contact through a form (correct, move, remove, resubmit, erase).

    "Check spelling" shows the form again with the computer's spelling, saving nothing. A valid
    form runs ``save()`` (the service), then one commit; ``done()`` gives the message flashed
    and the page to go to. A refusal stands beside its field, and nothing is kept.
    """
    checking = getattr(form, "checking_spelling", None)
    if checking is not None and checking():
        form.propose_spelling()
    elif form.validate_on_submit():
        try:
            save()
        except DomainError as error:
            field_error(form, error)
        else:
            message, back = done()
            db.session.commit()
            flash(message, "success")
            return redirect(back)
    return _render_change(template, form, contact, **context)


def _proposed(contact: Contact, message: str):
    """What a proposal's ``done`` gives: the message, and back to the contact."""
    return lambda: (message, url_for("roster.contact", contact_id=contact.id))


@bp.route("/contacts/<int:contact_id>/correct", methods=["GET", "POST"], endpoint="correct")
@requires(Permission.PROPOSE_CORRECTION)
def correct(contact_id):
    """Propose new values for an active contact; the roster keeps the old ones until approved."""
    contact = roster.get_visible_contact(current_user, contact_id)
    if refused := _refused(enrolment.check_changeable, contact):
        return refused
    # A spelling the computer made is not prefilled: saved unchanged it would count as checked.
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
        contact,
        form,
        "enrolment/correct.html",
        lambda: enrolment.propose_correction(current_user, contact.id, form.details(contact)),
        _proposed(
            contact,
            _(
                "Correction proposed. The roster keeps the current values until the ASP approves "
                "it."
            ),
        ),
    )


@bp.route("/contacts/<int:contact_id>/move", methods=["GET", "POST"], endpoint="move")
@requires(Permission.PROPOSE_CORRECTION)
def move(contact_id):
    """Propose moving an active contact to another village or ward of the same station."""
    contact = roster.get_visible_contact(current_user, contact_id)
    if refused := _refused(enrolment.check_changeable, contact):
        return refused
    form = MoveForm()
    station = contact.place.station
    places = (
        [p for p in enrolment.station_places(current_user, station) if p.id != contact.place_id]
        if station
        else []
    )
    form.place.choices = choices(
        ((str(p.id), localised_name(p)) for p in places), _("Choose a village")
    )

    def save():
        place = get_in_scope(current_user, Place, ascii_int(form.place.data) or 0)
        enrolment.propose_move(current_user, contact.id, place)

    return _change_page(
        contact,
        form,
        "enrolment/move.html",
        save,
        _proposed(
            contact,
            _(
                "Move proposed. The contact stays in %(place)s until the ASP approves it.",
                place=localised_name(contact.place),
            ),
        ),
        places=places,
    )


@bp.route("/contacts/<int:contact_id>/remove", methods=["GET", "POST"], endpoint="remove")
@requires(Permission.PROPOSE_CORRECTION)
def remove(contact_id):
    """Propose taking an active contact off the roster (moved, deceased, unreachable...)."""
    contact = roster.get_visible_contact(current_user, contact_id)
    if refused := _refused(enrolment.check_changeable, contact):
        return refused
    form = RemovalForm()
    return _change_page(
        contact,
        form,
        "enrolment/remove.html",
        lambda: enrolment.propose_removal(
            current_user, contact.id, InactiveReason(form.reason.data), form.note.data
        ),
        _proposed(
            contact,
            _("Removal proposed. The contact stays in the roster until the ASP approves it."),
        ),
    )


@bp.route("/contacts/<int:contact_id>/resubmit", methods=["GET", "POST"], endpoint="resubmit")
@requires(Permission.ENROL_CONTACT)
def resubmit(contact_id):
    """Correct a rejected enrolment and send it for approval again."""
    contact = roster.get_visible_contact(current_user, contact_id)
    if refused := _refused(enrolment.check_resubmittable, contact):
        return refused
    form = EnrolForm(obj=contact)
    if not form.is_submitted() and contact.name_other_generated:
        form.name_other.data = ""  # the computer's spelling is offered again by "Check spelling"
    del form.confirm_duplicate
    if not current_user.can(Permission.VIEW_CONFIDENTIAL):
        del form.confidential
    form.submit.label.text = _("Send for approval again")
    return _change_page(
        contact,
        form,
        "enrolment/resubmit.html",
        lambda: enrolment.resubmit(current_user, contact.id, form.details()),
        lambda: (
            _("%(name)s is sent for approval again.", name=contact.display_name()),
            url_for("enrolment.mine"),
        ),
    )


@bp.route("/contacts/<int:contact_id>/erase", methods=["GET", "POST"], endpoint="erase")
@requires(Permission.MANAGE_ROSTER)
@fresh_sign_in()
def erase(contact_id):
    """Erase a contact's personal data on the citizen's request; the history stays."""
    contact = roster.get_visible_contact(current_user, contact_id)
    history = url_for("enrolment.history", contact_id=contact.id)
    if refused := _refused(enrolment.check_erasable, contact, history):
        return refused
    form = EraseForm()
    return _change_page(
        contact,
        form,
        "enrolment/erase.html",
        lambda: enrolment.erase(current_user, contact.id, form.note.data),
        lambda: (_("The personal data is erased. The history of the record is kept."), history),
    )


# ---- own submissions and history ---------------------------------------------------------------


@bp.get("/mine", endpoint="mine")
@requires(Permission.ENROL_CONTACT)
def show_mine():
    """List the officer's own enrolments and proposals with their outcomes, newest first."""
    pager = enrolment.my_submissions(current_user, page=page_arg())
    proposals = enrolment.my_proposals(current_user) if page_arg() == 1 else []
    return render_template("enrolment/mine.html", pager=pager, proposals=proposals)


@bp.get("/contacts/<int:contact_id>/history", endpoint="history")
@requires(Permission.VIEW_ROSTER)
def show_history(contact_id):
    """Show a contact's timeline from the audit trail: enrolment, decisions, changes, reveals."""
    contact = roster.get_visible_contact(current_user, contact_id)
    return render_template(
        "enrolment/history.html",
        contact=contact,
        place=contact.place,
        entries=enrolment.contact_history(contact),
    )
