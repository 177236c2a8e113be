"""Template filters and globals: IST times, names in the reader's script, language list."""
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


def register(app):
    """Make the helpers available to every template."""
    app.add_template_filter(localised_name, "name")
    app.add_template_filter(ist, "ist")
    app.add_template_global(current_language, "current_language")
