"""The roster pages: a village's respected citizens, one contact, enrolling, and revealing numbers.

Places and contacts are loaded through the scope helpers, so anything outside the signed-in
post's subtree answers 404 like a record that does not exist. Numbers are shown in full to
station posts and to posts that revealed them with a reason (``cplan.services.roster``); every
page that shows contacts writes one audit event, committed with nothing else in the request.
Pages that record a view are rendered before the commit, so an event is kept only for a page
that was actually produced.
"""

from typing import NamedTuple

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan import formats
from cplan.blueprints.roster.forms import EnrolForm, RevealForm
from cplan.extensions import db
from cplan.models.geo import Place
from cplan.models.roster import Contact, ContactStatus
from cplan.services import (
    coverage,
    drives,
    election_marks,
    elections,
    incidents,
    roster,
    sensitive_places,
)
from cplan.services import places as place_service
from cplan.services.elections import label as election_label
from cplan.services.permissions import Permission
from cplan.services.phone import display_mobile
from cplan.services.scope import get_in_scope
from cplan.web.access import fresh_sign_in, requires
from cplan.web.errors import explain
from cplan.web.kit import field_error
from cplan.web.templating import current_language

bp = Blueprint("roster", __name__, url_prefix="/roster")


# ---- loading ---------------------------------------------------------------------------------


def _holder_trail(place: Place) -> list:
    holder = place.station or place.district
    return place_service.ancestors(current_user, holder) + [holder]


class Card(NamedTuple):
    """What one contact card shows (``rm.contact_cards``): names in both scripts with their
    ``lang`` and whether the computer made that spelling, the category label, and the numbers
    already masked unless ``shown``."""

    href: str
    name: str
    name_lang: str
    name_generated: bool
    other: str
    other_lang: str
    other_generated: bool
    category: str
    confidential: bool
    mobile: str
    mobile_text: str
    mobile_alt: str
    mobile_alt_text: str
    whatsapp: bool
    verified: str
    shown: bool
    mark: str = ""  # the contact's part in the election on (candidate, agent...), if any
    out_of_date: bool = False  # active, and not verified within the policy


def _cards(contacts: list[Contact], full: set[int], marks=None) -> list[Card]:
    """The cards of a roster, worked out once in Python: per card, a dozen macro calls, each
    looking up the language through context proxies, cost more than the rest of the page."""
    if not contacts:
        return []
    language = current_language()
    # The contact's id is the last segment of its URL: build one and swap the id.
    href = url_for("roster.contact", contact_id=0).removesuffix("0")
    categories: dict = {}
    cards = []
    cutoff = drives.policy_cutoff()
    for contact in contacts:
        shown = contact.id in full
        primary, primary_lang, other, other_lang = contact.names(language)
        category = categories.get(contact.category)
        if category is None:
            category = categories[contact.category] = roster.label("category", contact.category)
        cards.append(
            Card(
                href=f"{href}{contact.id}",
                name=primary,
                name_lang=primary_lang,
                name_generated=contact.spelling_generated(primary_lang),
                other=other,
                other_lang=other_lang,
                other_generated=contact.spelling_generated(other_lang),
                category=category,
                confidential=contact.confidential,
                mobile=contact.mobile or "",
                mobile_text=display_mobile(contact.mobile, shown),
                mobile_alt=contact.mobile_alt or "",
                mobile_alt_text=display_mobile(contact.mobile_alt, shown),
                whatsapp=contact.whatsapp,
                verified=formats.date_text(contact.last_verified_at, language)
                if contact.last_verified_at
                else "",
                shown=shown,
                mark=election_label("role", marks[contact.id].role)
                if marks and contact.id in marks
                else "",
                out_of_date=drives.is_out_of_date(contact, cutoff),
            )
        )
    return cards


def _grading_election(place: Place):
    """The election on in the place's district, for the SP office's "grade" link (else None)."""
    if not sensitive_places.may_grade(current_user):
        return None
    return elections.active_election_for_place(place)


def _village_context(place: Place) -> dict:
    """Everything the village page shows, and the counts its audit event records."""
    grouped = roster.place_roster(current_user, place)
    active = grouped[ContactStatus.ACTIVE]
    pending = grouped[ContactStatus.PENDING] if roster.sees_pending(current_user) else []
    full = roster.full_number_ids(current_user, place, active + pending)
    marks = election_marks.open_marks(active + pending, district_ids={place.district_id})
    return {
        "place": place,
        "grade": sensitive_places.active_grades([place]).get(place.id),
        "grading_election": _grading_election(place),
        "ancestors": _holder_trail(place),
        "active": active,
        "pending": pending,
        "active_cards": _cards(active, full, marks),
        "pending_cards": _cards(pending, full, marks),
        "full": full,
        "target": coverage.target(),
        "masked_any": any(contact.id not in full for contact in active + pending),
        "reveal_minutes": roster.reveal_minutes(),
        "incidents": incidents.of_place(current_user, place),
    }


def _render_village(place: Place):
    context = _village_context(place)
    # The reveal form is shown only when some number is masked: a station's own posts, who see
    # every number, do not pay for building one.
    reveal_form = RevealForm(formdata=None) if context["masked_any"] else None
    page = render_template("roster/place.html", reveal_form=reveal_form, **context)
    roster.record_roster_view(
        current_user,
        place,
        active=len(context["active"]),
        pending=len(context["pending"]),
        full_numbers=len(context["full"]),
    )
    db.session.commit()
    return page


# ---- pages -----------------------------------------------------------------------------------


@bp.get("/places/<int:place_id>", endpoint="place")
@requires(Permission.VIEW_ROSTER)
def show_place(place_id):
    """Show a village's or ward's respected citizens, with call and WhatsApp links."""
    place = get_in_scope(current_user, Place, place_id)
    return _render_village(place)


@bp.post("/places/<int:place_id>/reveal", endpoint="reveal_place")
@requires(Permission.VIEW_ROSTER)
def reveal_place(place_id):
    """Reveal the full numbers of a whole village for a while, with a stated reason."""
    place = get_in_scope(current_user, Place, place_id)
    form = RevealForm()
    if form.validate():
        try:
            count = roster.reveal_place(current_user, place, form.reveal_reason())
        except roster.RosterError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Numbers shown for %(count)s contacts for the next %(minutes)s minutes.",
                    count=count,
                    minutes=roster.reveal_minutes(),
                ),
                "success",
            )
            return redirect(url_for("roster.place", place_id=place.id))
    db.session.rollback()
    return render_template(
        "roster/reveal.html",
        form=form,
        place=place,
        contact=None,
        action=url_for("roster.reveal_place", place_id=place.id),
        back=url_for("roster.place", place_id=place.id),
        reveal_minutes=roster.reveal_minutes(),
    ), 400


@bp.get("/contacts/<int:contact_id>", endpoint="contact")
@requires(Permission.VIEW_ROSTER)
def show_contact(contact_id):
    """Show one contact: numbers, status, consent record, who enrolled them and when."""
    contact = roster.get_visible_contact(current_user, contact_id)
    full = contact.id in roster.full_number_ids(current_user, contact.place, [contact])
    page = render_template(
        "roster/contact.html",
        contact=contact,
        election_mark=election_marks.open_marks([contact]).get(contact.id),
        mark_election=elections.active_election_for_place(contact.place),
        place=contact.place,
        ancestors=_holder_trail(contact.place),
        full=full,
        reveal_form=RevealForm(formdata=None),
        reveal_minutes=roster.reveal_minutes(),
        out_of_date=drives.is_out_of_date(contact, drives.policy_cutoff()),
        drive_tasks=drives.tasks_of_contact(current_user, contact),
        task_labels=drives.STATE_LABELS,
    )
    roster.record_contact_view(current_user, contact, full_number=full)
    db.session.commit()
    return page


@bp.post("/contacts/<int:contact_id>/reveal", endpoint="reveal_contact")
@requires(Permission.VIEW_ROSTER)
def reveal_contact(contact_id):
    """Reveal one contact's full numbers for a while, with a stated reason."""
    contact = roster.get_visible_contact(current_user, contact_id)
    form = RevealForm()
    if form.validate():
        try:
            roster.reveal_contact(current_user, contact, form.reveal_reason())
        except roster.RosterError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(
                _(
                    "Numbers shown for the next %(minutes)s minutes.",
                    minutes=roster.reveal_minutes(),
                ),
                "success",
            )
            return redirect(url_for("roster.contact", contact_id=contact.id))
    db.session.rollback()
    return render_template(
        "roster/reveal.html",
        form=form,
        place=contact.place,
        contact=contact,
        action=url_for("roster.reveal_contact", contact_id=contact.id),
        back=url_for("roster.contact", contact_id=contact.id),
        reveal_minutes=roster.reveal_minutes(),
    ), 400


@bp.post("/contacts/<int:contact_id>/confidential", endpoint="set_confidential")
@requires(Permission.MANAGE_ROSTER)
@fresh_sign_in(back=lambda contact_id: url_for("roster.contact", contact_id=contact_id))
def set_confidential(contact_id):
    """Mark a contact confidential (ASP upwards only) or open it to the station again."""
    contact = roster.get_visible_contact(current_user, contact_id)
    wanted = request.form.get("confidential") == "1"
    try:
        roster.set_confidential(current_user, contact, wanted)
    except roster.RosterError as error:
        db.session.rollback()
        flash(explain(error), "error")
    else:
        db.session.commit()
        flash(
            _("The contact is now confidential.")
            if wanted
            else _("The contact is no longer confidential."),
            "success",
        )
    return redirect(url_for("roster.contact", contact_id=contact.id))


@bp.route("/places/<int:place_id>/enrol", methods=["GET", "POST"], endpoint="enrol")
@requires(Permission.ENROL_CONTACT)
def enrol(place_id):
    """Enrol a respected citizen for a village of the post's station (pending until approved)."""
    place = get_in_scope(current_user, Place, place_id)
    try:
        roster.check_enrolment_place(current_user, place)
    except roster.RosterError as error:
        flash(explain(error), "error")
        return redirect(url_for("roster.place", place_id=place.id))
    form = EnrolForm()
    if not current_user.can(Permission.VIEW_CONFIDENTIAL):
        del form.confidential
    duplicates, elsewhere = [], []
    if form.checking_spelling():
        form.propose_spelling()  # the form again with the computer's spelling; nothing saved
    elif form.validate_on_submit():
        details = form.details()
        try:
            duplicates, elsewhere = _duplicates(details)
            if (duplicates or elsewhere) and not form.confirm_duplicate.data:
                form.confirm_duplicate.errors = [
                    _(
                        "This number already belongs to the contacts listed above. Tick the box to "
                        "save anyway."
                    )
                ]
            else:
                contact = roster.enrol(current_user, place, details)
        except roster.RosterError as error:
            field_error(form, error)
        else:
            if not form.confirm_duplicate.errors:
                db.session.commit()
                flash(
                    _("%(name)s is enrolled and waits for approval.", name=contact.name), "success"
                )
                return redirect(url_for("roster.place", place_id=place.id))
    db.session.rollback()
    status = (
        400 if form.is_submitted() and (not form.checking_spelling() or form.name.errors) else 200
    )
    return render_template(
        "roster/enrol.html",
        form=form,
        place=place,
        ancestors=_holder_trail(place),
        duplicates=duplicates,
        elsewhere=elsewhere,
    ), status


def _duplicates(details) -> tuple[list[Contact], list[tuple[str, str]]]:
    """``roster.duplicates`` for the signed-in post."""
    return roster.duplicates(current_user, details)
