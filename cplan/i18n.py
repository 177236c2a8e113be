"""Language and time-zone selection for Flask-Babel.

The choice is remembered in the session (and, once signed in, on the officer's record);
otherwise the browser's Accept-Language decides between Hindi and English.
"""
from flask import current_app, request, session
from flask_login import current_user

LANGUAGE_SESSION_KEY = "lang"


def select_locale():
    """The UI language for this request: chosen language, else the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get(LANGUAGE_SESSION_KEY)
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.officer.language in languages:
        return current_user.officer.language
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    """Everyone in Uttar Pradesh reads times in IST."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
