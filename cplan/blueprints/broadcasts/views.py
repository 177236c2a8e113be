"""The broadcast pages: the list, composing with a preview, one broadcast with its approval and
delivery counts, and recording a contact's opt-out.

Thin views: form -> ``cplan.services.broadcasts`` -> one commit -> flash -> redirect. A
broadcast or station outside the post's scope answers 404.
"""

import json
from datetime import UTC

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from cplan.blueprints.broadcasts.forms import (
    AUDIENCE_LABELS,
    CancelForm,
    ComposeForm,
    DecisionForm,
    OptInForm,
    OptOutForm,
)
from cplan.extensions import csrf, db
from cplan.formats import IST
from cplan.models.accounts import Officer
from cplan.models.broadcasts import BroadcastStatus, DeliveryState
from cplan.services import broadcasts, dlt, outbox, roster, sms_gateways
from cplan.services.errors import DomainError, NotInScope
from cplan.services.permissions import Permission
from cplan.web.access import public, requires
from cplan.web.kit import ascii_int, choices, field_error, flash_form_errors, flash_refusal
from cplan.web.templating import localised_name

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")

LANGUAGE_NAMES = {"en": "English", "hi": "हिन्दी"}
STATUS_LABELS = {
    BroadcastStatus.AWAITING_APPROVAL: _l("Awaiting approval"),
    BroadcastStatus.APPROVED: _l("Approved"),
    BroadcastStatus.REJECTED: _l("Rejected"),
    BroadcastStatus.CANCELLED: _l("Withdrawn"),
}
STATE_LABELS = {
    DeliveryState.QUEUED: _l("Waiting to be sent"),
    DeliveryState.SENDING: _l("Being sent"),
    DeliveryState.SENT: _l("Sent"),
    DeliveryState.DELIVERED: _l("Delivered to the phone"),
    DeliveryState.FAILED: _l("Not delivered"),
    DeliveryState.EXPIRED: _l("Too late to send"),
}


@bp.context_processor
def _labels():
    return {
        "status_labels": STATUS_LABELS,
        "state_labels": STATE_LABELS,
        "audience_labels": AUDIENCE_LABELS,
    }


@bp.get("/")
@requires(Permission.SEND_BROADCAST)
def index():
    """The broadcasts of the post's scope, those awaiting approval first."""
    return render_template(
        "broadcasts/index.html",
        items=broadcasts.in_scope(current_user),
        stations=broadcasts.stations_in_scope(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.SEND_BROADCAST)
def new():
    """Compose a broadcast for one station: template, values, villages, category; preview."""
    stations = broadcasts.stations_in_scope(current_user)
    station_id = ascii_int(request.values.get("station"))
    if station_id is None and len(stations) == 1:
        station_id = stations[0].id
    if station_id is None:
        return render_template("broadcasts/choose_station.html", stations=stations)
    station = broadcasts.station_in_scope(current_user, station_id)
    templates = dlt.broadcast_templates()
    form = ComposeForm()
    form.station.data = str(station.id)
    form.template.choices = choices(
        (str(t.id), f"{t.title or t.name} ({LANGUAGE_NAMES.get(t.language, t.language)})")
        for t in templates
    )
    villages = broadcasts.villages_of(station)
    form.places.choices = choices((str(place.id), localised_name(place)) for place in villages)
    can_urgent = current_user.can(Permission.URGENT_BROADCAST)
    draft = None
    if form.validate_on_submit():
        try:
            draft = broadcasts.prepare(
                current_user,
                template_id=ascii_int(form.template.data),
                values=form.values(),
                station_id=station.id,
                place_ids=[
                    place_id
                    for place_id in (ascii_int(value) for value in form.places.data or [])
                    if place_id is not None
                ],
                category=form.category.data or None,
                urgent=bool(form.urgent.data) and can_urgent,
                audience=form.audience.data or "places",
                send_at=(
                    form.send_at.data.replace(tzinfo=IST).astimezone(UTC)
                    if form.send_at.data
                    else None
                ),
            )
            if form.send.data:
                broadcast = broadcasts.submit(current_user, draft)
                db.session.commit()
                if broadcast.status == BroadcastStatus.AWAITING_APPROVAL:
                    flash(_("Saved: an ASP or the SP office must approve it."), "success")
                else:
                    flash(_("Queued for sending."), "success")
                return redirect(url_for("broadcasts.show", broadcast_id=broadcast.id))
        except NotInScope:
            raise
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
    return render_template(
        "broadcasts/new.html",
        form=form,
        station=station,
        stations=stations,
        templates=templates,
        draft=draft,
        can_urgent=can_urgent,
        preview_text=dlt.preview_text,
        threshold=broadcasts.APPROVAL_THRESHOLD,
    )


@bp.get("/<int:broadcast_id>")
@requires(Permission.SEND_BROADCAST)
def show(broadcast_id):
    """One broadcast: its text, audience, approval, and its messages by state."""
    broadcast = broadcasts.get_visible(current_user, broadcast_id)
    counts = outbox.counts(broadcast.id)
    running = counts[DeliveryState.QUEUED] + counts[DeliveryState.SENDING] > 0
    form = DecisionForm(version=broadcast.version)
    return render_template(
        "broadcasts/show.html",
        broadcast=broadcast,
        counts=counts,
        states=list(DeliveryState),
        reasons=outbox.failure_reasons(broadcast.id) if counts else [],
        running=running,
        form=form,
        may_decide=(
            broadcast.status == BroadcastStatus.AWAITING_APPROVAL
            and current_user.can(Permission.APPROVE_BROADCAST)
            and broadcast.created_by_officer_id != current_user.officer.id
        ),
        can_urgent=current_user.can(Permission.URGENT_BROADCAST),
        # Not once a message has left the queue (a worker's clock may run ahead of ours).
        may_cancel=broadcasts.may_cancel(current_user, broadcast, counts=counts),
        cancel_form=CancelForm(version=broadcast.version),
    )


@bp.post("/<int:broadcast_id>/cancel")
@requires(Permission.SEND_BROADCAST)
def cancel(broadcast_id):
    """Cancel a broadcast awaiting approval or scheduled and not yet due."""
    form = CancelForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("broadcasts.show", broadcast_id=broadcast_id))
    try:
        broadcasts.cancel(current_user, broadcast_id, form.version.data)
        db.session.commit()
    except NotInScope:
        raise
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
    else:
        flash(_("Cancelled: nothing of it will be sent."), "success")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast_id))


@bp.post("/<int:broadcast_id>/decide")
@requires(Permission.APPROVE_BROADCAST)
def decide(broadcast_id):
    """Approve (and queue) or reject a broadcast awaiting approval."""
    form = DecisionForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("broadcasts.show", broadcast_id=broadcast_id))
    action = "approve" if form.approve.data else "reject"
    try:
        broadcast = broadcasts.decide(
            current_user,
            broadcast_id,
            form.version.data,
            action,
            note=form.note.data or "",
            urgent=bool(form.urgent.data) and current_user.can(Permission.URGENT_BROADCAST),
        )
        db.session.commit()
    except NotInScope:
        raise
    except DomainError as error:
        db.session.rollback()
        flash_refusal(error)
    else:
        if action == "approve":
            flash(_("Approved: %(num)d messages queued.", num=broadcast.queued_count), "success")
        else:
            flash(_("Rejected."), "success")
    return redirect(url_for("broadcasts.show", broadcast_id=broadcast_id))


@bp.route("/contacts/<int:contact_id>/opt-out", methods=["GET", "POST"])
@requires(Permission.RECORD_OPT_OUT)
def opt_out(contact_id):
    """Record that a contact wants no broadcasts (or undo it)."""
    contact = roster.get_visible_contact(current_user, contact_id)
    form = OptOutForm()
    again = OptInForm(prefix="again")
    if request.method == "POST":
        try:
            if contact.opted_out_at is None and form.validate_on_submit():
                broadcasts.opt_out(current_user, contact.id, form.channel.data)
                db.session.commit()
                flash(_("Recorded: this contact will receive no broadcasts."), "success")
                return redirect(url_for("broadcasts.opt_out", contact_id=contact.id))
            if contact.opted_out_at is not None and again.validate_on_submit():
                broadcasts.opt_in(current_user, contact.id)
                db.session.commit()
                flash(_("This contact will receive broadcasts again."), "success")
                return redirect(url_for("broadcasts.opt_out", contact_id=contact.id))
        except DomainError as error:
            db.session.rollback()
            field_error(form, error)
    return render_template(
        "broadcasts/opt_out.html",
        contact=contact,
        form=form,
        again=again,
        channel_label=_channel_label,
        recorder=(
            db.session.get(Officer, contact.opted_out_by_officer_id)
            if contact.opted_out_by_officer_id
            else None
        ),
    )


def _channel_label(value: str) -> str:
    from cplan.blueprints.broadcasts.forms import CHANNEL_LABELS

    return str(CHANNEL_LABELS.get(value, value))


MAX_REPORT_BYTES = 256 * 1024
MAX_ITEMS = 1000  # reports or replies in one request


class _Refused(Exception):
    """A gateway's callback refused: the JSON answer and its status."""

    def __init__(self, status: int, error: str):
        super().__init__(error)
        self.answer = (jsonify(error=error), status)


def _signed_items(secret: str, noun: str) -> list[dict]:
    """The JSON objects (one or a list of at most MAX_ITEMS) of a callback signed with
    HMAC-SHA256 in ``X-Signature``; raises ``_Refused`` otherwise."""
    if (request.content_length or 0) > MAX_REPORT_BYTES:
        raise _Refused(413, "too large")
    body = request.get_data()
    if not outbox.signature_ok(secret, body, request.headers.get("X-Signature", "")):
        raise _Refused(401, "bad signature")
    try:
        items = json.loads(body)
    except ValueError:
        raise _Refused(400, "not JSON") from None
    items = items if isinstance(items, list) else [items]
    if len(items) > MAX_ITEMS or not all(isinstance(item, dict) for item in items):
        raise _Refused(400, f"a {noun} is an object; at most {MAX_ITEMS} at once")
    return items


@bp.post("/delivery-reports/<gateway>")
@csrf.exempt
@public
def delivery_report(gateway):
    """A gateway's delivery reports (JSON, one or a list), signed with HMAC-SHA256; Exotel's
    status callbacks (a form) carry a token for the message's reference in their URL."""
    secret = current_app.config.get("SMS_DLR_SECRET") or ""
    if gateway not in ("http", "msdg", "exotel") or not secret:
        return jsonify(error="not found"), 404
    if gateway == "exotel":
        return _exotel_report(secret)
    try:
        reports = _signed_items(secret, "report")
    except _Refused as refused:
        return refused.answer
    results = [
        outbox.record_report(
            str(item.get("reference") or ""),
            str(item.get("status") or ""),
            gateway_id=str(item.get("id") or ""),
            reason=str(item.get("reason") or ""),
        )
        for item in reports
    ]
    db.session.commit()
    return jsonify(results=results)


def _exotel_report(secret: str):
    reference = request.args.get("ref", "")
    if not sms_gateways.callback_token_ok(secret, reference, request.args.get("sig", "")):
        return jsonify(error="bad signature"), 401
    report = sms_gateways.exotel_report(reference, request.form)
    result = outbox.record_report(
        report["reference"], report["status"], gateway_id=report["id"], reason=report["reason"]
    )
    db.session.commit()
    return jsonify(results=[result])


@bp.post("/replies/<gateway>")
@csrf.exempt
@public
def replies(gateway):
    """Citizens' SMS replies a gateway forwards (JSON ``from``, ``text``, ``id``; one or a
    list), signed like its delivery reports; a STOP reply opts the number's contacts out."""
    secret = current_app.config.get("SMS_DLR_SECRET") or ""
    if gateway not in ("http", "msdg") or not secret:
        return jsonify(error="not found"), 404
    try:
        items = _signed_items(secret, "reply")
    except _Refused as refused:
        return refused.answer
    results = [
        broadcasts.opt_out_by_reply(
            str(item.get("from") or ""),
            str(item.get("text") or ""),
            gateway=gateway,
            reply_id=str(item.get("id") or ""),
        )
        for item in items
    ]
    db.session.commit()
    return jsonify(results=results)
