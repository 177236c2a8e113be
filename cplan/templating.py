"""Template filters and globals: IST times, names in the reader's script, language list,
fingerprinted static files."""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app, url_for
from flask_babel import format_datetime, get_locale


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "en"


def localised_name(record) -> str:
    """A unit's or place's name in the current UI language (Hindi falls back to English)."""
    if record is None:
        return ""
    return record.display_name(current_language())


def ist(value, format="medium"):
    """A UTC datetime shown in IST, in the current language's format."""
    if value is None:
        return ""
    return format_datetime(value, format)


def static_url(filename: str) -> str:
    """The URL of a static file with its content's fingerprint (``?v=...``): browsers may keep it
    for a year (``SEND_FILE_MAX_AGE_DEFAULT``) and fetch it again only when the file changes."""
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_fingerprint(str(path), path.stat().st_mtime_ns))


@lru_cache(maxsize=64)
def _fingerprint(path: str, _mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def register(app):
    """Make the helpers available to every template."""
    app.add_template_filter(localised_name, "name")
    app.add_template_filter(ist, "ist")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(static_url, "static_url")
