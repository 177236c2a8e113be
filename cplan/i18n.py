"""Language and time-zone selection for Flask-Babel.

The choice is remembered in the session (and, once signed in, on the officer's record);
otherwise the browser's Accept-Language decides between Hindi and English.
"""
from flask import current_app, request, session

LANGUAGE_SESSION_KEY = "lang"


def select_locale():
    """The UI language for this request: chosen language, else the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get(LANGUAGE_SESSION_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    """Everyone in Uttar Pradesh reads times in IST."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
