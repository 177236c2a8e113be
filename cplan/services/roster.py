"""The roster's rules: who sees which contacts and numbers, and enrolling a contact.

- Scope: contacts are visible within the post's subtree (their ``unit_path``); confidential
  contacts only to posts with VIEW_CONFIDENTIAL (ASP upwards).
- Numbers: station posts (constable, SHO) see full numbers of their own places; every other
  post sees them masked until it reveals a contact or a village with a stated reason.
- Enrolment: station staff enrol contacts in their station's places; a new contact is *pending*
  and joins the roster only once approved (maker-checker, see the enrolment workflow).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from cplan.access import Principal
from cplan.extensions import db
from cplan.models.geo import Place
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Gender, Script
from cplan.services import audit, search
from cplan.services.errors import DomainError, NotInScope
from cplan.services.geo import in_subtree
from cplan.services.permissions import STATION_ROLES, Permission
from cplan.services.phone import InvalidMobile, normalise_mobile
from cplan.services.transliteration import to_devanagari, to_roman

CONTACT_SEARCH_KIND = "contact"
_DEVANAGARI = range(0x0900, 0x0980)


class RosterError(DomainError):
    """A roster change was refused; the message says why (translatable)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- visibility ------------------------------------------------------------------------------


def visible_condition(principal: Principal):
    """SQL condition: the contacts ``principal`` may see at all."""
    condition = in_subtree(Contact.unit_path, principal.unit)
    if not principal.can(Permission.VIEW_CONFIDENTIAL):
        condition = and_(condition, Contact.confidential.is_(False))
    return condition


def sees_full_numbers(principal: Principal) -> bool:
    """Station posts see their own places' numbers in full; everyone else reveals with a reason."""
    return principal.role in STATION_ROLES


def get_visible_contact(principal: Principal, contact_id: int) -> Contact:
    """A contact within the principal's scope, or NotInScope (the view answers 404)."""
    contact = db.session.scalar(select(Contact).where(Contact.id == contact_id, visible_condition(principal)))
    if contact is None:
        raise NotInScope()
    return contact


def place_roster(principal: Principal, place: Place) -> dict[ContactStatus, list[Contact]]:
    """The visible contacts of a place grouped by status (one query), names sorted."""
    grouped: dict[ContactStatus, list[Contact]] = {status: [] for status in ContactStatus}
    rows = db.session.scalars(
        select(Contact).where(Contact.place_id == place.id, visible_condition(principal))
        .order_by(Contact.name)
    )
    for contact in rows:
        grouped[contact.status].append(contact)
    return grouped


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


def clean(details: ContactDetails) -> CleanDetails:
    """Validate and normalise typed details, or raise RosterError naming the field."""
    name = " ".join((details.name or "").split())
    if len(name) < 2:
        raise RosterError(_l("Enter the contact's name."), "name")
    if len(name) > 200:
        raise RosterError(_l("That name is too long."), "name")
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
            raise RosterError(_l("The alternate number is the same as the mobile number."), "mobile_alt")
    try:
        category = ContactCategory(details.category)
    except ValueError as error:
        raise RosterError(_l("Choose a category from the list."), "category") from error
    try:
        gender = Gender(details.gender or Gender.NOT_STATED.value)
    except ValueError as error:
        raise RosterError(_l("Choose from the list."), "gender") from error
    if details.consent_on is None:
        raise RosterError(_l("Record the date the notice was given and consent obtained."), "consent_on")
    if details.consent_on > date.today():
        raise RosterError(_l("The consent date cannot be in the future."), "consent_on")
    script = script_of(name)
    other = " ".join((details.name_other or "").split())[:200]
    generated = not other
    if generated:
        other = to_roman(name) if script == Script.DEVANAGARI else to_devanagari(name)
    return CleanDetails(
        name=name, name_script=script, name_other=other, name_other_generated=generated,
        mobile=mobile, mobile_alt=mobile_alt, whatsapp=bool(details.whatsapp), category=category,
        gender=gender, address=(details.address or "").strip()[:300], notes=(details.notes or "").strip()[:2000],
        confidential=bool(details.confidential), consent_on=details.consent_on,
        consent_language=(details.consent_language or "")[:8],
    )


def contacts_with_number(mobile: str, principal: Principal, exclude_id: int | None = None) -> list[Contact]:
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


def enrol(principal: Principal, place: Place, details: ContactDetails) -> Contact:
    """Enrol a contact for ``place`` as *pending*; the ASP's approval puts it in the roster."""
    if not principal.can(Permission.ENROL_CONTACT):
        raise RosterError(_l("Your post cannot enrol contacts."))
    if not principal.unit.contains_path(place.unit_path) or place.station_id is None:
        raise NotInScope()
    if place.uninhabited:
        raise RosterError(_l("Nobody lives in this place; contacts cannot be enrolled here."))
    data = clean(details)
    if data.confidential and not principal.can(Permission.VIEW_CONFIDENTIAL):
        raise RosterError(_l("Only the ASP or above can mark a contact confidential."), "confidential")
    contact = Contact(
        place=place, unit_path=place.unit_path, status=ContactStatus.PENDING,
        enrolled_by_officer_id=principal.officer.id, enrolled_by_post_id=principal.post.id,
        consent_by_officer_id=principal.officer.id, **vars(data),
    )
    db.session.add(contact)
    db.session.flush()
    index_contact(contact)
    audit.record("roster.contact_enrolled", target=contact, unit=place.station,
                 detail={"place_id": place.id, "category": data.category.value})
    return contact


def index_contact(contact: Contact) -> None:
    """Make the contact findable by any spelling of its name."""
    search.index_names(CONTACT_SEARCH_KIND, contact.id, contact.unit_path, contact.name, contact.name_other)
