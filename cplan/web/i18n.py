"""Language and time-zone selection for Flask-Babel.

The choice is remembered in the session (and, once signed in, on the officer's record);
otherwise the browser's Accept-Language decides between Hindi and English.
"""

import flask_babel
from babel.support import NullTranslations, Translations
from flask import current_app, has_request_context, request, session
from flask_babel import Domain
from flask_login import current_user

LANGUAGE_SESSION_KEY = "lang"


def select_locale():
    """The UI language for this request: chosen language, else the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command or a job: the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/v1/") and request.accept_languages:
        # The API answers in the language the device asks for, whoever holds the token.
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    chosen = session.get(LANGUAGE_SESSION_KEY)
    if chosen in languages:
        return chosen
    if (
        current_user
        and current_user.is_authenticated
        and current_user.officer.language in languages
    ):
        return current_user.officer.language
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone():
    """Everyone in Uttar Pradesh reads times in IST."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


# ---- translations, fast --------------------------------------------------------------------
# A page calls ``_()`` hundreds of times (labels in every table cell, form options per row).
# Flask-Babel answers each call through several context lookups, formats the locale's name
# as a string and, for templates, wraps the result in Markup: about 30 µs a call, tens of
# milliseconds a page. Here the request's translations are looked up once and kept next to
# the locale they belong to (so ``flask_babel.refresh`` after a language switch still works),
# and one ``AppDomain`` per app keeps each language's catalogue loaded (Flask-Babel makes a new
# domain, with an empty cache, for every request).


def request_translations() -> Translations | NullTranslations:
    """The current request's translations (cached on Flask-Babel's per-request namespace)."""
    context = flask_babel._get_current_context()
    if context is None:
        return NullTranslations()
    state = context.__dict__
    cached = state.get("cplan_translations")
    if cached is not None and cached[0] is state.get("babel_locale"):
        return cached[1]
    translations = Domain.get_translations(get_app_domain())
    state["cplan_translations"] = (flask_babel.get_locale(), translations)
    return translations


class AppDomain(Domain):
    """The app's message domain: catalogues loaded once per language, looked up once a request."""

    def get_translations(self):
        return request_translations()


def get_app_domain() -> AppDomain:
    return current_app.extensions["cplan_domain"]


def template_gettext(message: str, **variables) -> str:
    """``_()`` in templates. Returns plain text: autoescaping then escapes it as a whole (no
    message holds markup), so placeholders' values are escaped too."""
    text = request_translations().ugettext(message)
    return text % variables if variables else text


def template_ngettext(singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return request_translations().ungettext(singular, plural, num) % variables


def use_fast_translations(app) -> None:
    """Serve every request's translations from one ``AppDomain``, templates without Markup."""
    domain = AppDomain()
    app.extensions["cplan_domain"] = domain
    app.before_request(domain.as_default)
    app.jinja_env.install_gettext_callables(template_gettext, template_ngettext, newstyle=False)
