"""Names people type for people and places: one rule for contacts, officers, posts and places.

A name must hold at least one letter of some script (Unicode category L: Devanagari and Latin
letters alike). A name made only of zero-width characters, emoji, digits or punctuation is
refused with one clear message: on a roster, a call sheet or a search result it would be an
empty or meaningless line, and nobody could be called by it. Whitespace is collapsed, and
invisible characters that never belong in a name are removed first (zero-width space, word
joiner, byte-order mark, soft hyphen, and the Hangul fillers, which count as letters but show
nothing); the zero-width joiner and non-joiner stay, since Devanagari uses them to choose a
conjunct's shape.

Names beginning with ``=``, ``+``, ``-`` or ``@`` are accepted (a name is what the person is
called), but spreadsheets take such a cell for a formula: every export makes its cells inert
(``roster_export.inert``, string cells in XLSX), and the roster import's dry run lists such
names as warnings (``looks_like_formula``) so the importer can look at them.

Callers: ``roster.clean`` (enrolment, correction, resubmission, bulk import), ``accounts``
(officers' names, posts' titles), and the forms' ``PersonOrPlaceName`` validator.
"""

from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

MAX_LENGTH = 200
FORMULA_STARTS = ("=", "+", "-", "@")
# Characters removed before anything else: invisible, and never part of a name.
_INVISIBLE = str.maketrans(
    dict.fromkeys(
        ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u115f", "\u1160", "\u3164", "\uffa0"]
    )
)


class InvalidName(ValueError):
    """The typed text is not a usable name; ``str(error)`` says why (translatable)."""


def tidy(text: str | None) -> str:
    """The text with invisible characters removed and whitespace collapsed (not checked)."""
    return " ".join((text or "").translate(_INVISIBLE).split())


def has_letter(text: str) -> bool:
    """True when the text holds a letter of any script."""
    return any(unicodedata.category(char).startswith("L") for char in text)


def clean_name(text: str | None, *, max_length: int = MAX_LENGTH, required: bool = True) -> str:
    """The name tidied, or ``InvalidName``. Without ``required`` an empty text gives ``""``."""
    name = tidy(text)
    if not name:
        if (text or "").strip():  # only invisible characters were typed
            raise InvalidName(no_letter_message())
        if required:
            raise InvalidName(_l("Enter a name."))
        return ""
    if not has_letter(name):
        raise InvalidName(no_letter_message())
    if len(name) > max_length:
        raise InvalidName(_l("That name is too long."))
    return name


def no_letter_message():
    return _l(
        "A name needs at least one letter; this one has only symbols, digits, emoji or "
        "invisible characters."
    )


def looks_like_formula(text: str | None) -> bool:
    """True when a spreadsheet would take the (tidied) text for a formula."""
    return tidy(text).startswith(FORMULA_STARTS)
