"""The blueprint kit: what the views of every feature need, done one way.

- **Query arguments.** ``page_arg``, ``number_arg``, ``id_arg``: ASCII digits only (Python's
  ``int()`` and ``str.isdigit`` also take Devanagari and full-width digits); anything else is
  the default (a first page, no id), never an error. ``ascii_int`` for a value in hand,
  ``coerce_id`` for a select of ids, and ``AsciiIntConverter``, the app's ``<int:...>`` in
  URLs, by the same rule. ``filter_args``: the filters a list's page links keep.
- **Where to go back to.** ``safe_next_url``: a path on this site, never another host (no open
  redirect); ``within`` narrows it to one part of the site.
- **Refusals on a form.** ``field_error`` puts a service's refusal beside the field it names
  (``error.field``), or above the form; ``flash_refusal`` flashes it (a warning when someone
  decided first); ``flash_form_errors`` flashes a one-button form's errors. The words are
  ``cplan.web.errors.explain``'s.
- **Downloads.** ``download``: a file made for the request, as an attachment no cache keeps.
- **Choices.** ``choices``: ``(value, label)`` pairs as WTForms choices, a blank one first when
  asked; labels stay lazy, so a form class can build them at import.

Dates and times are formatted by ``cplan.formats`` (the ``ist`` and ``ist_date`` filters of
``cplan.web.templating``); template helpers are registered there, in one place.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

from flask import flash, request, send_file
from werkzeug.routing import IntegerConverter
from wtforms.fields.choices import SelectChoice

from cplan.services.errors import AlreadyDecided, DomainError
from cplan.web.errors import explain

# An id or a count: ASCII digits, as many as a 64-bit id has.
ASCII_NUMBER = re.compile(r"[0-9]{1,18}")
# A page number: a million pages is more than any list here has.
PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


class AsciiIntConverter(IntegerConverter):
    """``<int:...>`` that matches ASCII digits only (Werkzeug's accepts any Unicode digit)."""

    regex = r"[0-9]{1,18}"


# ---- query arguments ---------------------------------------------------------------------------


def ascii_int(text) -> int | None:
    """``text`` as an int when it is ASCII digits (spaces around allowed), else None."""
    text = str(text if text is not None else "").strip()
    return int(text) if ASCII_NUMBER.fullmatch(text) else None


def coerce_id(value):
    """WTForms ``coerce`` of a select of record ids: ASCII digits only (the ValueError is
    WTForms' "Not a valid choice")."""
    if value is None or value == "" or isinstance(value, int):
        return value or None
    number = ascii_int(value)
    if number is None:
        raise ValueError("not an id")
    return number


def id_arg(name: str) -> int | None:
    """The query argument ``name`` as a record id, or None."""
    return ascii_int(request.args.get(name))


def number_arg(name: str, default: int | None) -> int | None:
    """A positive query argument (a page, a page size) of at most six digits; else ``default``."""
    value = request.args.get(name, "")
    return max(1, int(value)) if PAGE_NUMBER.fullmatch(value) else default


def page_arg() -> int:
    """The ``page`` query argument; anything but ASCII digits means the first page."""
    return number_arg("page", 1)


def filter_args(names) -> dict[str, str]:
    """The query arguments among ``names`` that hold a value: the filters a page's links keep."""
    return {name: request.args[name] for name in names if request.args.get(name)}


# ---- where to go back to -----------------------------------------------------------------------


def safe_next_url(target: str | None, within: str = "/") -> str | None:
    """``target`` when it is a path on this site starting with ``within`` (no scheme, host,
    ``//`` or backslash), else None."""
    if not target or len(target) > 2000:
        return None
    if any(ch in target for ch in "\\\r\n\t"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(within) or target.startswith("//"):
        return None
    return target


# ---- downloads ---------------------------------------------------------------------------------


def download(filename: str, mimetype: str, content: bytes):
    """A file made for this request (an export, a template): an attachment kept by no cache."""
    response = send_file(
        io.BytesIO(content),
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- refusals on a form ------------------------------------------------------------------------


def field_error(form, error: DomainError, default_field: str | None = None) -> None:
    """Show a service's refusal beside the field it names (``error.field``, else
    ``default_field``), or above the form when the form has no such field."""
    name = getattr(error, "field", None) or default_field
    field = form[name] if name and name in form else None
    if field is not None:
        field.errors = [*field.errors, explain(error)]
    else:
        form.form_errors.append(explain(error))


def flash_form_errors(form) -> None:
    """Flash every error of a form that did not validate (a one-button form on another page)."""
    for errors in form.errors.values():
        for message in errors:
            flash(message, "error")


def flash_refusal(error: DomainError) -> None:
    """Flash a service's refusal: a warning when someone else decided first (nothing the
    officer did was wrong), else an error."""
    flash(explain(error), "warning" if isinstance(error, AlreadyDecided) else "error")


# ---- choices -----------------------------------------------------------------------------------


def choices(pairs, blank=None) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms choices (tuples are deprecated in WTForms 3.3), with
    a blank first (value "") when ``blank`` gives its label."""
    options = [SelectChoice("", blank)] if blank is not None else []
    return options + [SelectChoice(value, label) for value, label in pairs]
