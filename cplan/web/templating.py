"""Every template filter and global of the app, registered here and nowhere else (``register``):
IST times, dates and durations (``cplan.formats``), names in the reader's script (and the quiet
mark on a spelling the computer made), the labels of roster, incident and rejection values,
numbers masked or in full, the navigation and its approval counts, fingerprinted static files.
Shared templates and macros depend on these, so no feature blueprint registers one of its own.
"""

import hashlib
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from flask import current_app, g, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from cplan import formats
from cplan.services import elections, enrolment, incidents, roster, whatsapp_groups
from cplan.services.permissions import Permission
from cplan.services.phone import display_mobile, mask_mobile
from cplan.web.navigation import main_links


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def localised_name(record) -> str:
    """A unit's or place's name in the current UI language (Hindi falls back to English)."""
    if record is None:
        return ""
    return record.display_name(current_language())


def generated_name(text, generated=False) -> Markup:
    """A name as shown, and the one place that marks a spelling the computer made.

    A generated spelling (a place's transliterated Hindi name, a contact's name in the other
    script) is wrapped in ``<span class="generated">``: a dotted underline, quiet enough for every
    row of a list. The page then says once, at its end, what the underline means (``base.html``
    shows that note when ``g.generated_names`` was set here): phones show no tooltips and screen
    readers skip them, so the note is what explains the mark to everyone. A deferred script
    (``static/js/generated-names.js``) gives every mark the note's words as its tooltip; written
    into each mark they cost about 100 bytes a name in Hindi, and a Hindi search page of 50
    contacts marks about a hundred names (13 KB, over the 60 KB page budget). A function, not a
    macro: coverage tables and search results mark hundreds of names a page.
    """
    if not generated or not text:
        return escape(text or "")
    g.generated_names = True
    return Markup(f'<span class="generated">{escape(text)}</span>')


def marked_name(record) -> Markup:
    """``record|marked_name``: a unit's, place's or sub-district's name in the reader's language,
    marked when that spelling was generated (``localised_name`` for plain text: titles, labels)."""
    if record is None:
        return Markup("")
    language = current_language()
    shown = "hi" if language == "hi" and record.name_hi else "en"
    return generated_name(record.display_name(language), record.spelling_generated(shown))


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


def duration(value: timedelta | None) -> str:
    """``|duration``: a response time in hours and minutes ("1 h 05 min"), or "–" when none yet."""
    return duration_formatter()(value)


def duration_formatter():
    """``duration`` with its two messages translated once, for a page that shows many."""
    in_minutes, in_hours = _("%(minutes)s min"), _("%(hours)s h %(minutes)s min")

    def format_duration(value: timedelta | None) -> str:
        if value is None:
            return "–"
        minutes = max(int(value.total_seconds() // 60), 0)
        if minutes < 60:
            return in_minutes % {"minutes": minutes}
        hours, rest = divmod(minutes, 60)
        return in_hours % {"hours": hours, "minutes": str(rest).zfill(2)}

    return format_duration


def reject_reason_label(code: str) -> str:
    """The translated label of a rejection reason code (macros too)."""
    label = enrolment.REJECT_REASON_LABELS.get(code or "")
    return str(label) if label else (code or "")


def approval_counts() -> dict[str, int]:
    """Pending enrolments and proposals for the navigation: two COUNT queries, only for posts
    that approve, at most once a request."""
    if "approval_counts" not in g:
        if current_user.is_authenticated and current_user.can(Permission.APPROVE_ENROLMENT):
            g.approval_counts = enrolment.pending_counts(current_user)
        else:
            g.approval_counts = {"enrolments": 0, "proposals": 0}
    return g.approval_counts


def register(app):
    """Make the helpers available to every template."""
    app.add_template_filter(localised_name, "name")
    app.add_template_filter(marked_name, "marked_name")
    app.add_template_global(generated_name, "generated_name")
    app.add_template_filter(ist, "ist")
    app.add_template_filter(ist_date, "ist_date")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(static_url, "static_url")
    app.add_template_global(table_cell, "table_cell")
    app.add_template_filter(duration, "duration")
    app.add_template_global(roster.label, "roster_label")
    app.add_template_global(incidents.label, "incident_label")
    app.add_template_global(reject_reason_label, "reject_reason_label")
    app.add_template_global(elections.label, "election_label")
    app.add_template_global(elections.LEVEL_HINDI.get, "sensitivity_hindi")
    app.add_template_global(elections.role_choices, "election_roles")
    app.add_template_global(mask_mobile, "mask_mobile")
    app.add_template_global(display_mobile, "display_mobile")
    app.add_template_global(approval_counts, "approval_counts")
    app.add_template_global(main_links, "main_links")
    app.add_template_global(whatsapp_groups.source_label, "whatsapp_source_label")
    app.add_template_global(whatsapp_groups.date_order_label, "whatsapp_date_order_label")
