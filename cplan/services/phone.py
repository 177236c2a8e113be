"""Indian mobile numbers: parse what people type, store E.164, show masked.

People write ``98765 43210``, ``098765-43210``, ``+91 9876543210``, ``919876543210``; a mobile
number is ten digits starting 6-9. Digits are checked as ASCII ``[0-9]`` (``str.isdigit`` and
``\\d`` accept other scripts); Devanagari digits are converted only where a caller allows them
(a constable typing a citizen's number), never for sign-in fields.
"""

import re

from flask_babel import lazy_gettext as _l

DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SEPARATORS = re.compile(r"[\s\-().]")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"[6-9][0-9]{9}")
MAX_INPUT_LENGTH = 32


class InvalidMobile(ValueError):
    """The text is not an Indian mobile number; ``str(error)`` says why (translatable)."""


def normalise_mobile(text: str, allow_devanagari_digits: bool = False) -> str:
    """Return ``+91XXXXXXXXXX`` for an Indian mobile number, or raise ``InvalidMobile``."""
    if text is None or not text.strip():
        raise InvalidMobile(_l("Enter a mobile number."))
    if len(text) > MAX_INPUT_LENGTH:
        raise InvalidMobile(_l("That is too long for a mobile number."))
    value = text.strip()
    if allow_devanagari_digits:
        value = value.translate(DEVANAGARI_DIGITS)
    value = _SEPARATORS.sub("", value)
    if value.startswith("+"):
        if not value.startswith("+91"):
            raise InvalidMobile(_l("Only Indian numbers (+91) can be used."))
        value = value[3:]
    if not _ASCII_DIGITS.fullmatch(value):
        raise InvalidMobile(
            _l("A mobile number may contain only digits, spaces, dashes and a leading +91.")
        )
    if len(value) == 11 and value.startswith("0") and value[1] in "12345":
        raise InvalidMobile(
            _l("That looks like a landline number (STD code); enter a mobile number.")
        )
    if len(value) == 12 and value.startswith("91"):
        value = value[2:]
    elif len(value) == 11 and value.startswith("0"):
        value = value[1:]
    if len(value) != 10:
        raise InvalidMobile(_l("An Indian mobile number has ten digits."))
    if not _MOBILE.fullmatch(value):
        raise InvalidMobile(_l("An Indian mobile number starts with 6, 7, 8 or 9."))
    return "+91" + value


def display_mobile(e164: str | None, full: bool) -> str:
    """``+91 98765 43210`` when ``full``, else masked (``mask_mobile``); "" without a number."""
    if not e164:
        return ""
    return f"{e164[:3]} {e164[3:8]} {e164[8:]}" if full else mask_mobile(e164)


def mask_mobile(e164: str | None) -> str:
    """``+91 ******3210``: enough to tell numbers apart, not enough to call."""
    if not e164:
        return ""
    return f"{e164[:3]} ******{e164[-4:]}"


def log_safe(e164: str | None) -> str:
    """The form used in logs and audit events (never a full number)."""
    if not e164:
        return ""
    return f"{e164[:3]}******{e164[-4:]}"
