"""Correcting a place's names by hand, and the history of its names.

Who: posts with ``CORRECT_PLACE_NAMES`` (ASP and SP office for their district, the state admin
for the state), within their subtree; a place outside it raises ``NotInScope`` (404).

What a correction does, in the caller's transaction (flush, never commit):

- sets ``name_en`` / ``name_hi`` to the spellings given; a blank one leaves that name as it is;
- keeps the old spellings among the place's aliases, so people still find the place by the
  names they knew, and rebuilds ``search_key`` and the search tokens;
- sets ``name_corrected``, which a re-import of the official files respects (the importer
  never writes over a corrected name);
- clears ``name_generated`` once a person has given or checked the Hindi spelling (for places
  the Hindi is the spelling that may have been transliterated). From the place page the person
  sees both names in the form, so saving it checks them both, even unchanged: that is also how a
  generated spelling that happens to be right is confirmed. In a file only what differs from
  today's names counts (the district's template comes filled with them), so a file row that
  changes only the English name leaves a generated Hindi name marked as generated;
- writes one ``geo.place_renamed`` event with the names before and after. The place page's
  name history is read from these events (``name_history``): the audit trail is already
  append-only and hash-chained, so a table of its own would only copy it.

Spellings are checked by ``clean_names``: the English name in Roman letters, the Hindi name in
Devanagari, each with at least one letter and at most ``MAX_NAME_LENGTH`` characters.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cplan.extensions import db
from cplan.models.accounts import Officer
from cplan.models.audit import AuditEvent
from cplan.models.geo import Place
from cplan.services import audit, search
from cplan.services.errors import DomainError, NotInScope
from cplan.services.geo import names_search_key
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

RENAMED = "geo.place_renamed"
MAX_NAME_LENGTH = 100
FORM, FILE = "form", "file"
_DEVANAGARI = range(0x0900, 0x0980)
# Joiners shape Devanagari conjuncts (क्‍ष); they belong in a Hindi name.
_JOINERS = {"\u200c", "\u200d"}
# Besides letters, digits and spaces, names carry a little punctuation: "Patti (East)",
# "Nagar No. 2", "Sikandarpur-Kalan", "Shah's Garden", "Ward 4/5".
_PUNCTUATION = set(".,-'’()/&")


class PlaceNameError(DomainError):
    """A correction was refused; the message says why (translatable) and ``field`` where."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class NewNames:
    """Checked spellings; "" leaves that name unchanged."""

    name_en: str = ""
    name_hi: str = ""


def _tidy(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def clean_english(text: str | None) -> str:
    """The English spelling tidied (NFC, single spaces), or PlaceNameError; "" when blank."""
    name = _tidy(text)
    if not name:
        return ""
    if len(name) > MAX_NAME_LENGTH:
        raise PlaceNameError(_l("At most %(count)s characters.", count=MAX_NAME_LENGTH), "name_en")
    if any(ord(ch) in _DEVANAGARI for ch in name):
        raise PlaceNameError(_l("Write the English name in Roman letters (A–Z)."), "name_en")
    for ch in name:
        if not (
            ("a" <= ch.lower() <= "z") or ("0" <= ch <= "9") or ch == " " or ch in _PUNCTUATION
        ):
            raise PlaceNameError(
                _l(
                    "The English name may hold only the letters A–Z, digits, spaces "
                    "and . , - ' ( ) / &."
                ),
                "name_en",
            )
    if not any("a" <= ch.lower() <= "z" for ch in name):
        raise PlaceNameError(_l("A name must contain at least one letter."), "name_en")
    return name


def clean_hindi(text: str | None) -> str:
    """The Hindi spelling tidied (NFC, single spaces), or PlaceNameError; "" when blank."""
    name = _tidy(text)
    if not name:
        return ""
    if len(name) > MAX_NAME_LENGTH:
        raise PlaceNameError(_l("At most %(count)s characters.", count=MAX_NAME_LENGTH), "name_hi")
    for ch in name:
        if not (
            ord(ch) in _DEVANAGARI
            or ch in _JOINERS
            or ("0" <= ch <= "9")
            or ch == " "
            or ch in _PUNCTUATION
        ):
            raise PlaceNameError(_l("Write the Hindi name in Devanagari."), "name_hi")
    if not any(ord(ch) in _DEVANAGARI and unicodedata.category(ch).startswith("L") for ch in name):
        raise PlaceNameError(_l("A name must contain at least one letter."), "name_hi")
    return name


def clean_names(name_en: str | None, name_hi: str | None) -> NewNames:
    """Both spellings checked (the English one first); blank ones stay blank."""
    return NewNames(clean_english(name_en), clean_hindi(name_hi))


def may_correct(principal: Principal) -> bool:
    return principal.can(Permission.CORRECT_PLACE_NAMES)


def _require(principal: Principal, place: Place) -> None:
    if not may_correct(principal):
        raise PlaceNameError(_l("Your post cannot correct place names."))
    if not principal.unit.contains_path(place.unit_path):
        raise NotInScope()


def _aliases_after(place: Place, name_en: str, name_hi: str) -> str:
    """Today's aliases plus the spellings being replaced, without the new names themselves."""
    current = {name_en.casefold(), name_hi.casefold()}
    kept: list[str] = []
    for alias in [*search.place_names(place)[2:], place.name_en, place.name_hi or ""]:
        alias = alias.strip()
        if alias and alias.casefold() not in current and alias not in kept:
            kept.append(alias)
    return " | ".join(kept)


def what_changes(
    place: Place, names: NewNames, *, checks_both: bool
) -> tuple[str, str, bool] | None:
    """(new English name, new Hindi name, still generated?) or None when the correction would
    change nothing at all (see the module docstring for ``checks_both``)."""
    name_en = names.name_en or place.name_en
    name_hi = names.name_hi or place.name_hi or ""
    hindi_given = bool(names.name_hi) and (checks_both or names.name_hi != place.name_hi)
    generated = place.name_generated and not hindi_given
    if (name_en, name_hi, generated) == (place.name_en, place.name_hi or "", place.name_generated):
        return None
    return name_en, name_hi, generated


def apply_names(place: Place, name_en: str, name_hi: str, generated: bool, via: str) -> dict:
    """Write a correction decided by ``what_changes``; returns the detail of its audit event.
    Flushing, the search tokens (``search.reindex_places``) and the ``RENAMED`` event are the
    caller's, so a file of thousands of corrections does each once."""
    before = {"name_en": place.name_en, "name_hi": place.name_hi or ""}
    place.aliases = _aliases_after(place, name_en, name_hi)
    place.name_en, place.name_hi = name_en, name_hi
    place.name_generated, place.name_corrected = generated, True
    place.search_key = names_search_key(name_en, name_hi, place.aliases)
    return {
        "before": before,
        "after": {"name_en": name_en, "name_hi": name_hi},
        "generated": generated,
        "via": via,
    }


def correct_place_names(
    principal: Principal, place: Place, name_en: str | None, name_hi: str | None
) -> Place:
    """Correct one place's names from its page (both spellings shown count as checked)."""
    _require(principal, place)
    names = clean_names(name_en, name_hi)
    if not names.name_en:
        raise PlaceNameError(_l("Enter the name in English."), "name_en")
    change = what_changes(place, names, checks_both=True)
    if change is None:
        raise PlaceNameError(_l("These are already the place's names."))
    detail = apply_names(place, *change, via=FORM)
    db.session.flush()
    search.reindex_places([place])
    audit.record(RENAMED, actor=principal, target=place, detail=detail)
    return place


# ---- history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameChange:
    """One correction of a place's names, as its page shows it."""

    occurred_at: datetime
    officer_name: str
    officer_pno: str
    post_title: str
    before_en: str
    before_hi: str
    after_en: str
    after_hi: str
    via: str


def name_history(place: Place) -> list[NameChange]:
    """The place's name corrections, latest first, from the audit trail (one indexed query)."""
    rows = db.session.execute(
        select(AuditEvent, Officer.name)
        .outerjoin(Officer, Officer.id == AuditEvent.officer_id)
        .where(
            AuditEvent.target_type == Place.__table__.name,
            AuditEvent.target_id == place.id,
            AuditEvent.action == RENAMED,
        )
        .order_by(AuditEvent.id.desc())
    ).all()
    changes = []
    for event, officer_name in rows:
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        before, after = detail.get("before") or {}, detail.get("after") or {}
        changes.append(
            NameChange(
                occurred_at=event.occurred_at,
                officer_name=officer_name or "",
                officer_pno=event.officer_pno,
                post_title=event.post_title,
                before_en=before.get("name_en", ""),
                before_hi=before.get("name_hi", ""),
                after_en=after.get("name_en", ""),
                after_hi=after.get("name_hi", ""),
                via=detail.get("via", ""),
            )
        )
    return changes
