"""Template filters and globals: IST times and dates (``cplan.formats``), names in the reader's
script, language list, fingerprinted static files."""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for
from flask_babel import get_locale
from markupsafe import Markup, escape

from cplan import formats


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def localised_name(record) -> str:
    """A unit's or place's name in the current UI language (Hindi falls back to English)."""
    if record is None:
        return ""
    return record.display_name(current_language())


def ist(value, format="medium"):
    """A UTC datetime shown in IST in the reader's language (``cplan.formats.datetime_text``:
    day first; 24-hour in English, the day's period in Hindi)."""
    if value is None:
        return ""
    return formats.datetime_text(value, current_language(), format)


def ist_date(value, format="medium"):
    """A date (or a UTC datetime's date in IST) in the reader's language, day first."""
    if value is None:
        return ""
    return formats.date_text(value, current_language(), format)


def static_url(filename: str) -> str:
    """The URL of a static file with its content's fingerprint (``?v=...``): browsers may keep it
    for a year (``SEND_FILE_MAX_AGE_DEFAULT``) and fetch it again only when the file changes."""
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_fingerprint(str(path), path.stat().st_mtime_ns))


@lru_cache(maxsize=64)
def _fingerprint(path: str, _mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def table_cell(label, value=None, numeric=False, primary=False, caller=None) -> Markup:
    """``tables.cell``: one cell of a stack table (``label`` becomes the column name a phone shows
    beside the value), holding ``value``, or the body of a ``{% call %}`` block. A function, not
    a macro: coverage tables and queues render hundreds of cells a page, and a macro call costs
    ten times as much."""
    classes = " ".join(name for name, wanted in (("num", numeric), ("primary", primary)) if wanted)
    if caller is not None:
        inside = caller()
    elif value is None or value == "":
        inside = Markup('<span class="muted">–</span>')
    else:
        inside = escape(value)
    class_attribute = f' class="{classes}"' if classes else ""
    return Markup(f'<td data-label="{escape(label)}"{class_attribute}>{inside}</td>')


def register(app):
    """Make the helpers available to every template."""
    app.add_template_filter(localised_name, "name")
    app.add_template_filter(ist, "ist")
    app.add_template_filter(ist_date, "ist_date")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(static_url, "static_url")
    app.add_template_global(table_cell, "table_cell")
