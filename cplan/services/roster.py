"""The roster's rules: who sees which contacts and numbers, and enrolling a contact.

- Scope: contacts are visible within the post's subtree (their ``unit_path``); confidential
  contacts only to posts with VIEW_CONFIDENTIAL (ASP upwards).
- Numbers: station posts (constable, SHO) see full numbers of their own places; every other
  post sees them masked until it reveals a contact or a village with a stated reason.
- Enrolment: station staff enrol contacts in their station's places; a new contact is *pending*
  and joins the roster only once approved (maker-checker, see the enrolment workflow).
- Reveals live in the audit trail, not in the cookie or a table of their own: a number is revealed
  to a post while a ``roster.revealed`` event by the same officer and post, in the same sign-in
  session, is younger than ``REVEAL_MINUTES`` (15 by default). ``now`` is the clock (tests move it).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, or_, select

from cplan.extensions import db
from cplan.formats import ist_day
from cplan.models.audit import AuditEvent
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit
from cplan.models.roster import (
    Contact,
    ContactCategory,
    ContactStatus,
    Gender,
    InactiveReason,
    Script,
)
from cplan.services import audit, names, search
from cplan.services.errors import DomainError, NotInScope
from cplan.services.geo import district_of
from cplan.services.permissions import STATION_ROLES, Permission
from cplan.services.phone import DEVANAGARI_DIGITS, InvalidMobile, log_safe, normalise_mobile
from cplan.services.principal import Principal
from cplan.services.transliteration import to_devanagari, to_roman

CONTACT_SEARCH_KIND = "contact"
_DEVANAGARI = range(0x0900, 0x0980)
DEFAULT_REVEAL_MINUTES = 15
REVEAL_NOTE_LENGTH = 300

# ---- labels (one place for every page, form and export) ---------------------------------------

CATEGORY_LABELS = {
    ContactCategory.PRADHAN: _l("Pradhan"),
    ContactCategory.FORMER_PRADHAN: _l("Former pradhan"),
    ContactCategory.BDC_WARD_MEMBER: _l("BDC / ward member"),
    ContactCategory.TEACHER: _l("Teacher"),
    ContactCategory.DOCTOR: _l("Doctor"),
    ContactCategory.EX_SERVICEMAN: _l("Ex-serviceman"),
    ContactCategory.ADVOCATE: _l("Advocate"),
    ContactCategory.TRADER: _l("Trader"),
    ContactCategory.RELIGIOUS_LEADER: _l("Religious leader"),
    ContactCategory.RETIRED_GOVERNMENT: _l("Retired government employee"),
    ContactCategory.SOCIAL_WORKER: _l("Social worker"),
    ContactCategory.JOURNALIST: _l("Journalist"),
    ContactCategory.YOUTH_REPRESENTATIVE: _l("Youth representative"),
    ContactCategory.WOMEN_REPRESENTATIVE: _l("Women's representative"),
    ContactCategory.OTHER: _l("Other"),
}
STATUS_LABELS = {
    ContactStatus.PENDING: _l("Pending approval"),
    ContactStatus.ACTIVE: _l("Active"),
    ContactStatus.REJECTED: _l("Rejected"),
    ContactStatus.INACTIVE: _l("Inactive"),
}
INACTIVE_REASON_LABELS = {
    InactiveReason.MOVED: _l("Moved away"),
    InactiveReason.DECEASED: _l("Deceased"),
    InactiveReason.UNREACHABLE: _l("Unreachable"),
    InactiveReason.UNSUITABLE: _l("Unsuitable"),
    InactiveReason.WITHDREW_CONSENT: _l("Withdrew consent"),
}
GENDER_LABELS = {
    Gender.FEMALE: _l("Female"),
    Gender.MALE: _l("Male"),
    Gender.TRANSGENDER: _l("Transgender"),
    Gender.NOT_STATED: _l("Not stated"),
}
# The languages a notice of data collection can be given in.
NOTICE_LANGUAGE_LABELS = {"hi": _l("Hindi"), "en": _l("English")}
# Why a post above the station asks to see full numbers (the audit keeps the code).
REVEAL_REASON_LABELS = {
    "rumour": _l("Verifying a rumour"),
    "incident": _l("Incident follow-up"),
    "election": _l("Election duty"),
    "other": _l("Other (say what)"),
}
_LABELS = {
    "category": CATEGORY_LABELS,
    "status": STATUS_LABELS,
    "inactive_reason": INACTIVE_REASON_LABELS,
    "gender": GENDER_LABELS,
    "notice_language": NOTICE_LANGUAGE_LABELS,
    "reveal_reason": REVEAL_REASON_LABELS,
}


def label(kind: str, value) -> str:
    """The reader's-language label of a roster value (``label("category", "teacher")``);
    an unknown value is shown as stored."""
    if value is None:
        return ""
    labels = _LABELS[kind]
    key = getattr(value, "value", value)
    for candidate, text in labels.items():
        if getattr(candidate, "value", candidate) == key:
            return str(text)
    return str(key)


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, lazy label) pairs for a select field, in the order above."""
    return [(getattr(value, "value", value), text) for value, text in _LABELS[kind].items()]


# ---- the clock -------------------------------------------------------------------------------


def now() -> datetime:
    """The current UTC time (tests monkeypatch this to move time forward)."""
    return utcnow()


def today_ist() -> date:
    """Today's date in India: a consent given at 1 a.m. IST is not "in the future"."""
    return ist_day(now())


class RosterError(DomainError):
    """A roster change was refused; the message says why (translatable)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- visibility ------------------------------------------------------------------------------
#
# One rule decides whether a reader may know who a contact is: the contact lies in the reader's
# subtree, and a confidential contact needs VIEW_CONFIDENTIAL (ASP upwards). ``visible_condition``
# is the rule in SQL (every list of contacts is read through it) and ``contact_visibility`` the
# same rule for a contact already loaded (a timeline entry naming one); a test proves the two
# agree. Where a page must say that *someone* was called or gave a tip without naming them, it
# shows ``label("withheld", visibility)``: "a contact of another station" or "a confidential
# source". A contact outside the reader's subtree is "of another station" even when it is also
# confidential: what lies outside a post's scope tells it nothing more.


class Visibility(enum.StrEnum):
    VISIBLE = "visible"
    CONFIDENTIAL = "confidential"  # in scope, but a source only the ASP and above may know
    OTHER_STATION = "other_station"  # outside the reader's subtree


WITHHELD_LABELS = {
    Visibility.CONFIDENTIAL: _l("a confidential source"),
    Visibility.OTHER_STATION: _l("a contact of another station"),
}
_LABELS["withheld"] = WITHHELD_LABELS


def visible_condition(principal: Principal):
    """SQL condition: the contacts ``principal`` may see at all."""
    condition = principal.unit.covers(Contact.unit_path)
    if not principal.can(Permission.VIEW_CONFIDENTIAL):
        condition = and_(condition, Contact.confidential.is_(False))
    return condition


def contact_visibility(principal: Principal, contact: Contact) -> Visibility:
    """Whether ``principal`` may know who ``contact`` is (``visible_condition`` for one loaded
    contact), and if not, which placeholder names it."""
    if not principal.unit.contains_path(contact.unit_path):
        return Visibility.OTHER_STATION
    if contact.confidential and not principal.can(Permission.VIEW_CONFIDENTIAL):
        return Visibility.CONFIDENTIAL
    return Visibility.VISIBLE


def sees_full_numbers(principal: Principal) -> bool:
    """Station posts see their own places' numbers in full; everyone else reveals with a reason."""
    return principal.role in STATION_ROLES


def get_visible_contact(principal: Principal, contact_id: int) -> Contact:
    """A contact within the principal's scope, or NotInScope (the view answers 404)."""
    contact = db.session.scalar(
        select(Contact).where(Contact.id == contact_id, visible_condition(principal))
    )
    if contact is None:
        raise NotInScope()
    return contact


def place_roster(
    principal: Principal, place: Place, *, since: datetime | None = None
) -> dict[ContactStatus, list[Contact]]:
    """The visible contacts of a place grouped by status (one query), names sorted; with
    ``since``, only those changed at or after it."""
    grouped: dict[ContactStatus, list[Contact]] = {status: [] for status in ContactStatus}
    query = select(Contact).where(Contact.place_id == place.id, visible_condition(principal))
    if since is not None:
        query = query.where(Contact.updated_at >= since)
    rows = db.session.scalars(query.order_by(Contact.name))
    for contact in rows:
        grouped[contact.status].append(contact)
    return grouped


def reveal_minutes() -> int:
    """How long a reveal lasts (config ``REVEAL_MINUTES``)."""
    return int(current_app.config.get("REVEAL_MINUTES", DEFAULT_REVEAL_MINUTES))


def sees_pending(principal: Principal) -> bool:
    """Pending enrolments are shown to those who make them (station staff) and decide them (ASP
    up)."""
    return principal.can(Permission.ENROL_CONTACT) or principal.can(Permission.APPROVE_ENROLMENT)


# ---- protected numbers: reveals and access records -------------------------------------------

REVEALED = "roster.revealed"
VIEWED = "roster.viewed"


def _reveal_event_matches(principal: Principal):
    """Conditions on AuditEvent: a reveal by this officer and post, in this sign-in session,
    still within ``REVEAL_MINUTES``."""
    since = now() - timedelta(minutes=reveal_minutes())
    session_start = getattr(principal.session, "created_at", None)
    if session_start is not None and session_start > since:
        since = session_start
    return and_(
        AuditEvent.action == REVEALED,
        AuditEvent.officer_id == principal.officer.id,
        AuditEvent.post_id == principal.post.id,
        AuditEvent.occurred_at >= since,
    )


def revealed_ids(principal: Principal, *places: Place | int) -> set[int]:
    """Ids of the visible contacts of ``places`` whose numbers ``principal`` has revealed (the
    whole village or the contact itself), in one query. Station posts need no reveal: see
    ``sees_full_numbers``."""
    place_ids = [getattr(place, "id", place) for place in places]
    if not place_ids:
        return set()
    revealed = exists().where(
        _reveal_event_matches(principal),
        or_(
            and_(
                AuditEvent.target_type == Place.__table__.name,
                AuditEvent.target_id == Contact.place_id,
            ),
            and_(
                AuditEvent.target_type == Contact.__table__.name, AuditEvent.target_id == Contact.id
            ),
        ),
    )
    return set(
        db.session.scalars(
            select(Contact.id).where(
                Contact.place_id.in_(place_ids), visible_condition(principal), revealed
            )
        )
    )


def full_number_ids(principal: Principal, place: Place, contacts) -> set[int]:
    """Of ``contacts`` (of ``place``), those whose full number ``principal`` may see now."""
    if sees_full_numbers(principal):
        return {contact.id for contact in contacts}
    return revealed_ids(principal, place) if contacts else set()


@dataclass
class RevealReason:
    """Why a number is revealed: a code of ``REVEAL_REASON_LABELS`` and, for "other", words."""

    code: str
    note: str = ""


def _clean_reason(reason: RevealReason) -> RevealReason:
    if reason.code not in REVEAL_REASON_LABELS:
        raise RosterError(_l("Choose why you need the numbers."), "reason")
    note = " ".join((reason.note or "").split())
    if len(note) > REVEAL_NOTE_LENGTH:
        raise RosterError(
            _l("Say it in at most %(count)s characters.", count=REVEAL_NOTE_LENGTH), "note"
        )
    if reason.code == "other" and len(note) < 3:
        raise RosterError(_l("Say why you need the numbers."), "note")
    return RevealReason(reason.code, note)


def _reveal_detail(reason: RevealReason, count: int) -> dict:
    detail = {"reason": reason.code, "contacts": count}
    if reason.note:
        # Free text may hold a number someone typed: never let a full number into the trail.
        detail["note"] = redact_numbers(reason.note)
    return detail


_NUMBER_LIKE = re.compile(r"\+?[0-9\u0966-\u096f][0-9\u0966-\u096f\s\-().]{8,}[0-9\u0966-\u096f]")


def redact_numbers(text: str) -> str:
    """``text`` with every full mobile number replaced by its masked form, spacing kept."""

    def mask(match):
        found = match.group()
        if not audit.looks_like_full_mobile(found):
            return found
        digits = found.translate(DEVANAGARI_DIGITS)
        return log_safe("+91" + "".join(ch for ch in digits if ch in "0123456789")[-10:])

    redacted = _NUMBER_LIKE.sub(mask, text)
    # Anything the pattern missed (odd separators) falls back to the strict redaction.
    return audit.redact_mobiles(redacted) if audit.looks_like_full_mobile(redacted) else redacted


def reveal_place(principal: Principal, place: Place, reason: RevealReason) -> int:
    """Reveal the numbers of a whole village for ``REVEAL_MINUTES``; returns how many contacts
    that covers. Audited as ``roster.revealed`` (the reason, the count, never a number)."""
    if not principal.unit.contains_path(place.unit_path):
        raise NotInScope()
    reason = _clean_reason(reason)
    statuses = [ContactStatus.ACTIVE] + ([ContactStatus.PENDING] if sees_pending(principal) else [])
    count = len(
        db.session.scalars(
            select(Contact.id).where(
                Contact.place_id == place.id,
                Contact.status.in_(statuses),
                visible_condition(principal),
            )
        ).all()
    )
    audit.record(REVEALED, actor=principal, target=place, detail=_reveal_detail(reason, count))
    return count


def reveal_contact(principal: Principal, contact: Contact, reason: RevealReason) -> None:
    """Reveal one contact's numbers for ``REVEAL_MINUTES``, audited as ``roster.revealed``."""
    if not principal.unit.contains_path(contact.unit_path):
        raise NotInScope()
    reason = _clean_reason(reason)
    audit.record(REVEALED, actor=principal, target=contact, detail=_reveal_detail(reason, 1))


def record_roster_view(
    principal: Principal, place: Place, *, active: int, pending: int, full_numbers: int
) -> None:
    """One ``roster.viewed`` event per page view: who saw which village, how many contacts and
    how many of them with full numbers (the DPDP access log)."""
    audit.record(
        VIEWED,
        actor=principal,
        target=place,
        detail={
            "shown": active + pending,
            "active": active,
            "pending": pending,
            "full_numbers": full_numbers,
        },
    )


def record_number_lookup(
    principal: Principal, results: search.SearchResults, *, full_numbers: bool
) -> None:
    """One ``search.number_lookup`` event for a page of a look-up by number, from any post and
    whatever it found: the query masked (``search.masked_number_query``), whether it matched a
    whole number or its beginning, how many contacts matched and the ids of those shown."""
    audit.record(
        "search.number_lookup",
        actor=principal,
        detail={
            "query": search.masked_number_query(results),
            "match": "exact" if results.number else "start",
            "contacts": results.contact_total,
            "contact_ids": [contact.id for contact in results.contacts],
            "full_numbers": full_numbers,
        },
    )


def record_contact_view(principal: Principal, contact: Contact, *, full_number: bool) -> None:
    """One ``roster.contact_viewed`` event when a contact's own page is opened."""
    audit.record(
        "roster.contact_viewed",
        actor=principal,
        target=contact,
        detail={"full_number": full_number},
    )


# ---- enrolling -------------------------------------------------------------------------------


@dataclass
class ContactDetails:
    """What a person types to enrol (or correct) a contact; ``clean`` validates it."""

    name: str
    mobile: str
    category: str
    name_other: str = ""
    mobile_alt: str = ""
    whatsapp: bool = False
    gender: str = Gender.NOT_STATED.value
    address: str = ""
    notes: str = ""
    confidential: bool = False
    consent_on: date | None = None
    consent_language: str = ""


@dataclass
class CleanDetails:
    name: str
    name_script: Script
    name_other: str
    name_other_generated: bool
    mobile: str
    mobile_alt: str | None
    whatsapp: bool
    category: ContactCategory
    gender: Gender
    address: str
    notes: str
    confidential: bool
    consent_on: date | None
    consent_language: str


def script_of(text: str) -> Script:
    """Devanagari when most letters are Devanagari, else Latin."""
    letters = [ch for ch in text if ch.isalpha() or ord(ch) in _DEVANAGARI]
    devanagari = sum(1 for ch in letters if ord(ch) in _DEVANAGARI)
    return Script.DEVANAGARI if letters and devanagari * 2 >= len(letters) else Script.LATIN


def contact_name(text: str | None, field: str = "name", *, required: bool = True) -> str:
    """A contact's typed name under the one rule for names (``cplan.services.names``: at least
    one letter) and the roster's own (at least two characters); RosterError names ``field``.
    Without ``required`` (the name in the other script) an empty text gives ``""``."""
    try:
        name = names.clean_name(text, required=required)
    except names.InvalidName as error:
        if not (text or "").strip():  # nothing typed at all
            raise RosterError(_l("Enter the contact's name."), field) from error
        raise RosterError(error.args[0], field) from error
    if required and len(name) < 2:
        raise RosterError(_l("Enter the contact's name."), field)
    return name


def other_script_spelling(name: str) -> str:
    """The computer's spelling of ``name`` in the other script (Hindi <-> English), "" for none:
    what is saved when the officer leaves that field empty, and what "Check spelling" proposes."""
    name = " ".join((name or "").split())
    if not name:
        return ""
    return (to_roman(name) if script_of(name) == Script.DEVANAGARI else to_devanagari(name))[:200]


def clean(details: ContactDetails) -> CleanDetails:
    """Validate and normalise typed details, or raise RosterError naming the field."""
    name = contact_name(details.name)
    try:
        mobile = normalise_mobile(details.mobile, allow_devanagari_digits=True)
    except InvalidMobile as error:
        raise RosterError(str(error), "mobile") from error
    mobile_alt = None
    if (details.mobile_alt or "").strip():
        try:
            mobile_alt = normalise_mobile(details.mobile_alt, allow_devanagari_digits=True)
        except InvalidMobile as error:
            raise RosterError(str(error), "mobile_alt") from error
        if mobile_alt == mobile:
            raise RosterError(
                _l("The alternate number is the same as the mobile number."), "mobile_alt"
            )
    try:
        category = ContactCategory(details.category)
    except ValueError as error:
        raise RosterError(_l("Choose a category from the list."), "category") from error
    try:
        gender = Gender(details.gender or Gender.NOT_STATED.value)
    except ValueError as error:
        raise RosterError(_l("Choose from the list."), "gender") from error
    if details.consent_on is None:
        raise RosterError(
            _l("Record the date the notice was given and consent obtained."), "consent_on"
        )
    if details.consent_on > today_ist():
        raise RosterError(_l("The consent date cannot be in the future."), "consent_on")
    script = script_of(name)
    other = contact_name(details.name_other, "name_other", required=False)
    generated = not other
    if generated:
        other = other_script_spelling(name)
    return CleanDetails(
        name=name,
        name_script=script,
        name_other=other,
        name_other_generated=generated,
        mobile=mobile,
        mobile_alt=mobile_alt,
        whatsapp=bool(details.whatsapp),
        category=category,
        gender=gender,
        address=(details.address or "").strip()[:300],
        notes=(details.notes or "").strip()[:2000],
        confidential=bool(details.confidential),
        consent_on=details.consent_on,
        consent_language=(details.consent_language or "")[:8],
    )


def contacts_with_number(
    mobile: str, principal: Principal, exclude_id: int | None = None
) -> list[Contact]:
    """Other contacts (any status but rejected) whose mobile or alternate number is ``mobile``,
    within what ``principal`` may see (the duplicate warning before saving)."""
    query = select(Contact).where(
        or_(Contact.mobile == mobile, Contact.mobile_alt == mobile),
        Contact.status != ContactStatus.REJECTED,
        visible_condition(principal),
    )
    if exclude_id is not None:
        query = query.where(Contact.id != exclude_id)
    return list(db.session.scalars(query.order_by(Contact.id).limit(20)))


def places_holding_number_elsewhere(mobile: str, principal: Principal) -> list[tuple[str, str]]:
    """(village, station) names where contacts the principal cannot open hold ``mobile``,
    within the principal's district: a constable is warned about the number being enrolled at
    another station of the district without seeing that contact. Confidential contacts are
    left out, so the warning never betrays one."""
    district = district_of(principal.unit) or principal.unit
    rows = db.session.execute(
        select(Place, Unit)
        .join(Contact, Contact.place_id == Place.id)
        .join(Unit, Unit.id == Place.station_id)
        .where(
            or_(Contact.mobile == mobile, Contact.mobile_alt == mobile),
            Contact.status != ContactStatus.REJECTED,
            Contact.confidential.is_(False),
            district.covers(Contact.unit_path),
            ~visible_condition(principal),
        )
        .limit(20)
    )
    return sorted(
        {(place.display_name("en"), station.display_name("en")) for place, station in rows}
    )


def duplicates(
    principal: Principal, details: ContactDetails
) -> tuple[list[Contact], list[tuple[str, str]]]:
    """Before enrolling: the visible contacts already holding the mobile or alternate number,
    and the (village, station) of those elsewhere in the district the post cannot open (raises
    ``RosterError`` naming the field of a bad number)."""
    data = clean(details)
    numbers = [data.mobile] + ([data.mobile_alt] if data.mobile_alt else [])
    found: dict[int, Contact] = {}
    elsewhere: set[tuple[str, str]] = set()
    for number in numbers:
        found.update({contact.id: contact for contact in contacts_with_number(number, principal)})
        elsewhere.update(places_holding_number_elsewhere(number, principal))
    return list(found.values()), sorted(elsewhere)


def check_enrolment_place(principal: Principal, place: Place) -> None:
    """Contacts are enrolled for a place of the principal's subtree that a police station
    answers for (else ``NotInScope``) and where somebody lives (else ``RosterError``)."""
    if not principal.unit.contains_path(place.unit_path) or place.station_id is None:
        raise NotInScope()
    if place.uninhabited:
        raise RosterError(_l("Nobody lives in this place; contacts cannot be enrolled here."))


def enrol(principal: Principal, place: Place, details: ContactDetails) -> Contact:
    """Enrol a contact for ``place`` as *pending*; the ASP's approval puts it in the roster."""
    if not principal.can(Permission.ENROL_CONTACT):
        raise RosterError(_l("Your post cannot enrol contacts."))
    check_enrolment_place(principal, place)
    data = clean(details)
    if data.confidential and not principal.can(Permission.VIEW_CONFIDENTIAL):
        raise RosterError(
            _l("Only the ASP or above can mark a contact confidential."), "confidential"
        )
    contact = Contact(
        place=place,
        unit_path=place.unit_path,
        status=ContactStatus.PENDING,
        enrolled_by_officer_id=principal.officer.id,
        enrolled_by_post_id=principal.post.id,
        consent_by_officer_id=principal.officer.id,
        **vars(data),
    )
    db.session.add(contact)
    db.session.flush()
    index_contact(contact)
    audit.record(
        "roster.contact_enrolled",
        actor=principal,
        target=contact,
        unit=place.station,
        detail={"place_id": place.id, "category": data.category.value},
    )
    return contact


def index_contact(contact: Contact) -> None:
    """Make the contact findable by any spelling of its name."""
    search.index_names(
        CONTACT_SEARCH_KIND, contact.id, contact.unit_path, contact.name, contact.name_other
    )


def set_confidential(principal: Principal, contact: Contact, confidential: bool) -> Contact:
    """Mark a contact confidential (visible from the ASP upwards only) or open it again.

    Only posts that manage the roster and may see confidential contacts (ASP, SP office) decide
    this: station staff who enrol a source cannot hide it from themselves by mistake.
    """
    if not (
        principal.can(Permission.MANAGE_ROSTER) and principal.can(Permission.VIEW_CONFIDENTIAL)
    ):
        raise RosterError(_l("Your post cannot do this."))
    if not principal.unit.contains_path(contact.unit_path):
        raise NotInScope()
    if contact.confidential == confidential:
        return contact
    contact.confidential = confidential
    contact.version += 1
    db.session.flush()
    audit.record(
        "roster.confidential_set" if confidential else "roster.confidential_cleared",
        actor=principal,
        target=contact,
        unit=contact.place.station,
    )
    return contact
