"""The incident pages: the feed, reporting an incident, the incident with its timeline, the call
sheet and the review queue.

Thin views: form -> ``cplan.services.incidents`` -> one commit -> flash -> redirect. Incidents are
loaded through ``incidents.get_visible``, so one outside the post's scope answers 404 like one
that does not exist. Times are shown and typed in IST, stored in UTC.
"""

from datetime import timedelta
from typing import NamedTuple

from flask import (
    Blueprint,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from cplan import formats
from cplan.blueprints.incidents.forms import (
    WINDOWS,
    ActionForm,
    CallForm,
    CorrectionForm,
    EscalationForm,
    FeedFilterForm,
    IncidentForm,
    NoteForm,
    PlaceSearchForm,
    ReviewForm,
    StatusForm,
    TipForm,
    ist_to_utc,
)
from cplan.extensions import db
from cplan.models.geo import Place, Unit
from cplan.models.incidents import CallOutcome, Incident
from cplan.pipelines import incident_export
from cplan.pipelines.tables import CSV_MIMETYPE
from cplan.services import audit, election_marks, incidents, roster, sensitive_places
from cplan.services.errors import DomainError
from cplan.services.incidents import FeedFilters, label
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.errors import explain
from cplan.web.kit import (
    ascii_int,
    choices,
    download,
    filter_args,
    flash_form_errors,
    flash_refusal,
    page_arg,
)
from cplan.web.templating import current_language, duration_formatter, ist, localised_name

bp = Blueprint("incidents", __name__, url_prefix="/incidents")

# 25 rows: within a weak 3G link's page budget, and a page renders in a few tens of ms at state
# scale.
PER_PAGE = 25
FILTER_ARGS = ("q", "district", "kind", "status", "severity", "window", "open")
# Sent by static/js/call-sheet.js: answer a logged call with the parts of the sheet it changed.
CALL_FRAGMENT_HEADER = "X-Cplan-Fragment"


class FeedRow(NamedTuple):
    """What one row of ``im.feed_table`` shows, in the reader's words: labels translated, times
    formatted and places named here once rather than through a dozen macro calls a row."""

    href: str
    reference: str
    kind: str
    severity: str
    severity_label: str
    status: str
    status_label: str
    places: str
    district: str
    stations: str
    reported: str
    handler: str
    to_first_call: str
    first_call_overdue: bool
    to_verdict: str
    verdict_overdue: bool
    overdue: bool


def _rows(items) -> list[FeedRow]:
    if not items:
        return []
    language = current_language()
    # The incident's id is the last segment of its URL: build one and swap the id.
    href = url_for("incidents.show", incident_id=0).removesuffix("0")
    took = duration_formatter()
    labels: dict = {}

    def word(kind, value):
        key = (kind, value)
        if key not in labels:
            labels[key] = label(kind, value)
        return labels[key]

    rows = []
    for incident in items:
        times = incidents.response_times(incident)
        rows.append(
            FeedRow(
                href=f"{href}{incident.id}",
                reference=incident.reference,
                kind=word("kind", incident.kind),
                severity=incident.severity.value,
                severity_label=word("severity", incident.severity),
                status=incident.status.value,
                status_label=word("status", incident.status),
                places=", ".join(
                    link.place.display_name(language) if link.place is not None else ""
                    for link in incident.places
                ),
                district=incident.district.display_name(language),
                stations=", ".join(
                    dict.fromkeys(
                        link.place.station.display_name(language)
                        for link in incident.places
                        if link.place is not None and link.place.station is not None
                    )
                ),
                reported=ist(incident.reported_at, "short"),
                handler=incident.handling_by.display_name(language) if incident.handling_by else "",
                to_first_call=took(times.to_first_call),
                first_call_overdue=times.first_call_overdue,
                to_verdict=took(times.to_verdict),
                verdict_overdue=times.verdict_overdue,
                overdue=times.overdue,
            )
        )
    return rows


# ---- the feed --------------------------------------------------------------------------------


def _feed_filters(form: FeedFilterForm) -> tuple[FeedFilters, dict]:
    districts = incidents.feed_districts(current_user)
    if districts:
        hindi = current_language() == "hi"
        form.district.choices = choices(
            ((str(d.id), d.name_hi if hindi and d.name_hi else d.name_en) for d in districts),
            _("Any district"),
        )
    else:
        del form.district
    filters = FeedFilters()
    if districts:
        filters.district_id = next(
            (d.id for d in districts if str(d.id) == form.district.data), None
        )
    for name in ("kind", "status", "severity"):
        value = getattr(form, name).data
        if value in {choice.value for choice in getattr(form, name).choices if choice.value}:
            setattr(filters, name, value)
    filters.open_only = bool(form.open.data)
    filters.number = (form.q.data or "").strip()[:40]
    if form.window.data in WINDOWS:
        filters.since = roster.now() - timedelta(hours=WINDOWS[form.window.data])
    args = filter_args(FILTER_ARGS)
    return filters, args


@bp.get("/", endpoint="feed")
@requires(Permission.VIEW_INCIDENTS)
def show_feed():
    """Incidents the post may see, newest report first, with filters and response times."""
    form = FeedFilterForm(request.args)
    filters, args = _feed_filters(form)
    pager = db.paginate(
        incidents.with_listing_details(incidents.feed_query(current_user, filters)),
        page=page_arg(),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "incidents/feed.html", form=form, pager=pager, rows=_rows(pager.items), args=args
    )


@bp.get("/export.csv", endpoint="export_feed")
@requires(Permission.VIEW_INCIDENTS)
def export_feed():
    """The filtered feed as a CSV file (formula-safe; one audit event per file)."""
    filters, args = _feed_filters(FeedFilterForm(request.args))
    try:
        data, _count = incident_export.feed_csv(current_user, filters, current_language())
    except DomainError as error:
        db.session.rollback()
        flash(explain(error), "error")
        return redirect(url_for("incidents.feed", **args))
    db.session.commit()
    stamp = formats.file_name_stamp(roster.now(), with_time=True)
    return download(f"incidents-{stamp}.csv", CSV_MIMETYPE, data)


@bp.get("/review", endpoint="review_queue")
@requires(Permission.REVIEW_INCIDENTS)
def show_review_queue():
    """Incidents not yet reviewed, oldest report first."""
    pager = db.paginate(
        incidents.with_listing_details(incidents.review_queue(current_user)),
        page=page_arg(),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("incidents/review_queue.html", pager=pager, rows=_rows(pager.items))


# ---- reporting -------------------------------------------------------------------------------


def _place_label(place: Place) -> str:
    holder = place.station or place.district
    return f"{localised_name(place)} ({localised_name(holder)})"


@bp.route("/new", methods=["GET", "POST"], endpoint="new")
@requires(Permission.MANAGE_INCIDENTS)
def new():
    """Report an incident for one or more places of the post's scope."""
    finder = PlaceSearchForm(request.args)
    form = IncidentForm()
    if not form.is_submitted():
        # "Report a rumour here" (a village page) and "Report a rumour" (a station's home)
        # name what the officer tapped: the place and the kind.
        form.places.data = request.args.getlist("place")[:20]
        if request.args.get("kind") in incidents.LABELS["kind"]:
            form.kind.data = request.args["kind"]
    picked = [number for number in map(ascii_int, form.places.data or []) if number is not None]
    places = incidents.places_to_report(current_user, picked) if picked else []
    query = (finder.q.data or "").strip()[:100]
    # Ticked and found places are checkboxes; a station's other villages (84 for Baraut) are
    # one list to choose from, which static/js/place-finder.js turns into a search as you type.
    found = incidents.places_to_report(current_user, query=query) if query else []
    listed = {place.id: place for place in places + found}
    offered = [] if query else incidents.places_to_report(current_user)
    form.places.choices = choices(
        (str(place.id), _place_label(place))
        for place in [*listed.values(), *(p for p in offered if p.id not in listed)]
    )
    if form.validate_on_submit():
        try:
            if not places:
                raise incidents.IncidentError(_("Choose at least one place."))
            incident = incidents.create_incident(
                current_user,
                places,
                form.kind.data,
                form.severity.data,
                ist_to_utc(form.occurred_at.data),
                ist_to_utc(form.reported_at.data),
                form.source.data,
                form.summary.data,
                up112_number=form.up112_number.data,
            )
        except DomainError as error:
            form.form_errors.append(explain(error))
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Incident %(reference)s is open.", reference=incident.reference), "success")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    db.session.rollback()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "incidents/new.html",
        form=form,
        finder=finder,
        listed=[choice for choice in form.places.choices if int(choice.value) in listed],
        offered=[choice for choice in form.places.choices if int(choice.value) not in listed],
    ), status


# At most this many places answer one search as you type: a page of a phone's screen.
PLACES_FOUND = 20


@bp.get("/places", endpoint="places")
@requires(Permission.MANAGE_INCIDENTS)
def find_places():
    """The places of the post's scope named like ``q`` (JSON), for the incident form's search."""
    query = (request.args.get("q") or "").strip()[:100]
    found = (
        incidents.places_to_report(current_user, query=query, limit=PLACES_FOUND) if query else []
    )
    return jsonify({"places": [{"id": place.id, "label": _place_label(place)} for place in found]})


# ---- one incident ----------------------------------------------------------------------------


@bp.get("/<int:incident_id>", endpoint="show")
@requires(Permission.VIEW_INCIDENTS)
def show(incident_id):
    """The incident, its timeline, the tally of calls and the forms that move it on."""
    incident = incidents.get_visible(current_user, incident_id)
    counts = incidents.tally(incident)
    suggestion = incidents.suggested_verdict(counts)
    status_form = StatusForm(formdata=None, version=str(incident.version))
    status_form.status.choices = choices(
        (s.value, label("status", s)) for s in sorted(incidents.allowed_statuses(incident.status))
    )
    return render_template(
        "incidents/show.html",
        incident=incident,
        grades=sensitive_places.active_grades(item.place for item in incident.places),
        entries=incidents.timeline(current_user, incident),
        counts=counts,
        suggestion=suggestion,
        accept=_acceptable(incident, suggestion),
        times=incidents.response_times(incident),
        status_form=status_form,
        note_form=NoteForm(formdata=None),
        action_form=ActionForm(formdata=None),
        review_form=ReviewForm(formdata=None),
        escalation_form=_escalation_form(incident),
    )


def _acceptable(incident: Incident, suggestion):
    """The suggested verdict when the incident may move to it now (the one-tap button)."""
    if suggestion is None or suggestion == incident.status:
        return None
    return suggestion if suggestion in incidents.allowed_statuses(incident.status) else None


@bp.get("/<int:incident_id>/report", endpoint="report")
@requires(Permission.VIEW_INCIDENTS)
def printable_report(incident_id):
    """The incident and its whole timeline on one page, laid out for printing."""
    incident = incidents.get_visible(current_user, incident_id)
    counts = incidents.tally(incident)
    page = render_template(
        "incidents/report.html",
        incident=incident,
        entries=incidents.timeline(current_user, incident),
        counts=counts,
        suggestion=incidents.suggested_verdict(counts),
        times=incidents.response_times(incident),
        printed_at=roster.now(),
    )
    audit.record(
        "incident.report_opened", actor=current_user, target=incident, unit=incident.district
    )
    db.session.commit()
    return page


def _escalation_form(incident: Incident, bound: bool = False) -> EscalationForm:
    """The escalation form with the units above the post; ``bound`` reads the submitted form."""
    form = EscalationForm() if bound else EscalationForm(formdata=None)
    form.unit.choices = choices(
        (str(unit.id), localised_name(unit))
        for unit in incidents.escalation_targets(current_user, incident)
    )
    return form


def _done(incident: Incident | int, action, success: str, anchor: str = "", form=None):
    """One of the incident page's actions, on ``incident`` (or its id: it is loaded first, so
    an incident the post may not see answers 404). When ``form`` does not validate, its errors
    are flashed; else the service call ``action()``, one commit and ``success`` flashed, or the
    service's refusal flashed and nothing kept. Back to the incident (at ``anchor``)."""
    if not isinstance(incident, Incident):
        incident = incidents.get_visible(current_user, incident)
    incident_id = incident.id
    if form is not None and not form.validate_on_submit():
        _form_errors(form)
    else:
        try:
            action()
        except DomainError as error:
            flash_refusal(error)
            db.session.rollback()
        else:
            db.session.commit()
            flash(success, "success")
    return redirect(url_for("incidents.show", incident_id=incident_id) + anchor)


def _form_errors(form) -> None:
    db.session.rollback()
    flash_form_errors(form)


@bp.post("/<int:incident_id>/status", endpoint="change_status")
@requires(Permission.MANAGE_INCIDENTS)
def change_status(incident_id):
    """Move the incident on (compare-and-set on the version the officer saw)."""
    incident = incidents.get_visible(current_user, incident_id)
    form = StatusForm()
    version = ascii_int(form.version.data)
    if not form.validate_on_submit() or version is None:
        _form_errors(form)
        return redirect(url_for("incidents.show", incident_id=incident_id))
    status = (
        form.status.data
        if form.status.data in {s.value for s in incidents.IncidentStatus}
        else None
    )
    if status is None:
        flash(_("The incident cannot move to that status now."), "error")
        return redirect(url_for("incidents.show", incident_id=incident_id))
    return _done(
        incident,
        lambda: incidents.change_status(
            current_user, incident_id, version, status, form.note.data or ""
        ),
        _("Status changed to %(status)s.", status=label("status", status)),
    )


@bp.post("/<int:incident_id>/notes", endpoint="add_note")
@requires(Permission.MANAGE_INCIDENTS)
def add_note(incident_id):
    """Add a note (or the facts pushed to the public) to the timeline."""
    form = NoteForm()
    return _done(
        incident_id,
        lambda: incidents.add_note(
            current_user, incident_id, form.text.data, public_message=form.public.data
        ),
        _("Added to the timeline."),
        "#timeline",
        form=form,
    )


@bp.post("/<int:incident_id>/escalate", endpoint="escalate")
@requires(Permission.MANAGE_INCIDENTS)
def escalate(incident_id):
    """Escalate the incident to a unit above the post (recorded on the timeline)."""
    incident = incidents.get_visible(current_user, incident_id)
    form = _escalation_form(incident, bound=True)
    targets = {choice.value: choice for choice in form.unit.choices}
    if not form.validate_on_submit() or form.unit.data not in targets:
        form.unit.errors = list(form.unit.errors) or [_("Choose a unit above yours.")]
        _form_errors(form)
        return redirect(url_for("incidents.show", incident_id=incident_id))
    unit = db.session.get(Unit, int(form.unit.data))
    return _done(
        incident,
        lambda: incidents.escalate(current_user, incident_id, unit, form.note.data or ""),
        _("Escalated to %(unit)s.", unit=localised_name(unit)),
        "#timeline",
    )


@bp.route(
    "/<int:incident_id>/entries/<int:entry_id>/correct",
    methods=["GET", "POST"],
    endpoint="correct_entry",
)
@requires(Permission.MANAGE_INCIDENTS)
def correct_entry(incident_id, entry_id):
    """Correct a timeline entry: the old entry stays, a correction naming it is added."""
    incident = incidents.get_visible(current_user, incident_id)
    entry = incidents.get_entry(current_user, incident, entry_id)
    form = CorrectionForm()
    if form.validate_on_submit():
        try:
            incidents.correct_entry(current_user, entry.id, form.text.data)
        except DomainError as error:
            form.form_errors.append(explain(error))
        else:
            db.session.commit()
            flash(_("Correction added to the timeline."), "success")
            return redirect(url_for("incidents.show", incident_id=incident.id) + "#timeline")
    db.session.rollback()
    status = 400 if form.is_submitted() else 200
    return render_template(
        "incidents/correct.html",
        incident=incident,
        entry=incidents.shown_entry(current_user, entry),
        form=form,
    ), status


@bp.post("/<int:incident_id>/claim", endpoint="claim")
@requires(Permission.MANAGE_INCIDENTS)
def claim(incident_id):
    """Mark the incident as being handled by the signed-in officer."""
    return _done(
        incident_id,
        lambda: incidents.claim(current_user, incident_id),
        _("You are handling this incident."),
    )


@bp.post("/<int:incident_id>/release", endpoint="release")
@requires(Permission.MANAGE_INCIDENTS)
def release(incident_id):
    """Give up one's claim on the incident."""
    return _done(
        incident_id,
        lambda: incidents.release(current_user, incident_id),
        _("You are no longer handling this incident."),
    )


@bp.post("/<int:incident_id>/review", endpoint="review")
@requires(Permission.REVIEW_INCIDENTS)
def review(incident_id):
    """A supervisor marks the incident reviewed, with a comment."""
    form = ReviewForm()
    return _done(
        incident_id,
        lambda: incidents.mark_reviewed(current_user, incident_id, form.comment.data or ""),
        _("Marked reviewed."),
        form=form,
    )


# ---- the call sheet --------------------------------------------------------------------------


@bp.get("/<int:incident_id>/calls", endpoint="calls")
@requires(Permission.VIEW_INCIDENTS)
def show_calls(incident_id):
    """The contacts to call, affected places first, each with a call button and one-tap outcomes."""
    incident = incidents.get_visible(current_user, incident_id)
    sheet = incidents.call_sheet(current_user, incident)
    rows = sheet.rows
    full = all(row.full_number for row in rows)
    counts = incidents.tally(incident)
    page = render_template(
        "incidents/calls.html",
        incident=incident,
        rows=rows,
        grades=sensitive_places.active_grades({row.contact.place for row in rows}),
        marks=election_marks.open_marks(row.contact for row in rows),
        full=full,
        counts=counts,
        more_neighbours=sheet.more_neighbours,
        outcomes=[(outcome.value, label("outcome", outcome)) for outcome in CallOutcome],
        suggestion=incidents.suggested_verdict(counts),
        accept=_acceptable(incident, incidents.suggested_verdict(counts)),
        call_form=CallForm(formdata=None),
    )
    audit.record(
        "incident.call_sheet_viewed",
        actor=current_user,
        target=incident,
        unit=incident.district,
        detail={"contacts": len(rows), "full_numbers": sum(row.full_number for row in rows)},
    )
    db.session.commit()
    return page


@bp.post("/<int:incident_id>/calls", endpoint="log_call")
@requires(Permission.MANAGE_INCIDENTS)
def log_call(incident_id):
    """Record the outcome of one call, then back to the sheet (or, asked by the sheet's script,
    only what changed on it)."""
    incident = incidents.get_visible(current_user, incident_id)
    form = CallForm()
    contact_id = ascii_int(form.contact_id.data)
    in_place = request.headers.get(CALL_FRAGMENT_HEADER) == "1"
    back = url_for("incidents.calls", incident_id=incident.id)
    if not form.validate_on_submit() or contact_id is None:
        if in_place:
            db.session.rollback()
            messages = [message for errors in form.errors.values() for message in errors]
            return _call_logged(incident, None, messages or [_("Choose the outcome of the call.")])
        _form_errors(form)
        return redirect(back)
    try:
        incidents.log_call(
            current_user, incident.id, contact_id, form.outcome.data, form.said.data or ""
        )
    except DomainError as error:
        if in_place:
            message = explain(error)  # out of scope: raised again, answered 404
            db.session.rollback()
            return _call_logged(incident, None, [message])
        flash_refusal(error)
        db.session.rollback()
        return redirect(back + f"#contact-{contact_id}")
    db.session.commit()
    message = _("Call recorded: %(outcome)s.", outcome=label("outcome", form.outcome.data))
    if in_place:
        return _call_logged(incident, contact_id, [message])
    flash(message, "success")
    return redirect(back + f"#contact-{contact_id}")


def _call_logged(incident: Incident, contact_id: int | None, messages: list[str]):
    """The call sheet's parts after a call: the message, the contact's card and the tally (or,
    when nothing was recorded, the message alone, with status 400). Not audited as a sheet
    view: the card shows the number of a contact the sheet just showed."""
    refused = contact_id is None
    context = {"incident": incident, "refused": refused, "message": " ".join(messages)}
    if not refused:
        db.session.refresh(incident)
        counts = incidents.tally(incident)
        row = incidents.call_sheet_row(current_user, incident, contact_id)
        context |= {
            "row": row,
            "grades": sensitive_places.active_grades({row.contact.place}),
            "marks": election_marks.open_marks([row.contact]),
            "outcomes": [(outcome.value, label("outcome", outcome)) for outcome in CallOutcome],
            "call_url": url_for("incidents.log_call", incident_id=incident.id),
            "said_label": CallForm(formdata=None).said.label.text,
            "counts": counts,
            "suggestion": incidents.suggested_verdict(counts),
            "accept": _acceptable(incident, incidents.suggested_verdict(counts)),
        }
    response = make_response(
        render_template("incidents/_call_logged.html", **context), 400 if refused else 200
    )
    response.headers[CALL_FRAGMENT_HEADER] = "call"
    response.vary.add(CALL_FRAGMENT_HEADER)
    return response


# ---- tips from contacts ----------------------------------------------------------------------


@bp.route("/tips/<int:contact_id>", methods=["GET", "POST"], endpoint="new_tip")
@requires(Permission.MANAGE_INCIDENTS)
def new_tip(contact_id):
    """Record what a contact told the police as an incident of the contact's place."""
    contact = roster.get_visible_contact(current_user, contact_id)
    form = TipForm()
    if form.validate_on_submit():
        try:
            incident = incidents.record_tip(
                current_user,
                contact.id,
                form.summary.data,
                form.confidential.data,
                kind=form.kind.data,
                severity=form.severity.data,
            )
        except DomainError as error:
            form.form_errors.append(explain(error))
        except ValueError as error:
            form.form_errors.append(str(error))
        else:
            db.session.commit()
            if incidents.is_visible(current_user, incident):
                flash(
                    _("Tip recorded as incident %(reference)s.", reference=incident.reference),
                    "success",
                )
                return redirect(url_for("incidents.show", incident_id=incident.id))
            flash(
                _(
                    "Tip recorded as incident %(reference)s. It is confidential: the ASP and "
                    "officers above can see it.",
                    reference=incident.reference,
                ),
                "success",
            )
            return redirect(url_for("roster.contact", contact_id=contact.id))
    db.session.rollback()
    status = 400 if form.is_submitted() else 200
    return render_template("incidents/tip.html", contact=contact, form=form), status
