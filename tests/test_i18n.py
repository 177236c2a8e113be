"""Hindi and English: every string in the code is translated, and the language switch works.

The compiled catalogue (``messages.mo``) is git-ignored and built by ``make translations``
(``make test`` does it first). For a bare ``pytest`` run after editing the ``.po``, run
``.venv/bin/pybabel compile -d cplan/translations``; ``test_the_compiled_catalogue_is_fresh``
says so when it is missing or stale.
"""

import os
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
HINDI_PO = ROOT / "cplan" / "translations" / "hi" / "LC_MESSAGES" / "messages.po"
HINDI_MO = HINDI_PO.with_suffix(".mo")
# The same keywords as `make extract-messages` (plus Babel's defaults).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
    "lazy_pgettext": ((1, "c"), 2),
}
COMPILE_HINT = "run `make translations` (or `.venv/bin/pybabel compile -d cplan/translations`)"


def extracted_messages():
    """(msgid, where) for every translatable string in cplan/, read as babel.cfg says."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)

    def wanted(path):
        # Babel's default filter skips directories starting with "_", which would hide
        # templates/_macros and templates/_partials; skip only hidden and cache folders.
        name = os.path.basename(path)
        return not name.startswith(".") and name != "__pycache__"

    found = []
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=wanted
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.append(((msgid, context), f"{filename}:{lineno}"))
    return found


def translated_forms(entry):
    """Every translated form of a catalogue entry (one, or one per plural form)."""
    return entry.string if isinstance(entry.string, tuple) else (entry.string,)


@pytest.fixture(scope="module")
def hindi_catalogue():
    with open(HINDI_PO, "rb") as po:
        return read_po(po, locale="hi")


def test_extraction_finds_strings_in_templates_macros_partials_and_python():
    places = {where.split(":")[0] for _key, where in extracted_messages()}
    assert "cplan/web/errors.py" in places
    assert "cplan/templates/base.html" in places
    assert "cplan/templates/_macros/tables.html" in places
    assert "cplan/templates/_partials/_nav.html" in places


def test_every_string_in_the_code_has_a_hindi_translation(hindi_catalogue):
    problems = []
    for (msgid, context), where in extracted_messages():
        entry = hindi_catalogue.get(msgid, context=context)
        if entry is None:
            problems.append(f"{where}: not in the Hindi catalogue: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"{where}: marked fuzzy: {msgid!r}")
        elif not all(translated_forms(entry)):
            problems.append(f"{where}: not translated: {msgid!r}")
    assert not problems, (
        "run `make extract-messages` and translate in "
        "cplan/translations/hi/LC_MESSAGES/messages.po:\n" + "\n".join(sorted(set(problems)))
    )


def test_hindi_translations_keep_their_placeholders(hindi_catalogue):
    problems = [
        f"{message.id!r}: {error}"
        for message, errors in hindi_catalogue.check()
        for error in errors
    ]
    assert not problems, "\n".join(problems)


def test_the_compiled_catalogue_is_fresh():
    assert HINDI_MO.exists(), f"{HINDI_MO.relative_to(ROOT)} is missing: {COMPILE_HINT}"
    assert HINDI_MO.stat().st_mtime >= HINDI_PO.stat().st_mtime, (
        f"{HINDI_MO.relative_to(ROOT)} is older than the .po: {COMPILE_HINT}"
    )


# ---- choosing the language ----------------------------------------------------------------


def html_lang(response):
    page = response.get_data(as_text=True)
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


# The "page not found" page: public, so these tests need no sign-in.
PAGE = "/no-such-page"


def test_without_a_choice_english_is_the_default(client):
    response = client.get(PAGE)
    assert html_lang(response) == "en"
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("hi", "hi"),
        ("hi-IN,hi;q=0.9,en;q=0.8", "hi"),
        ("en-IN,en;q=0.9", "en"),
        ("fr, hi;q=0.5", "hi"),
        ("ta-IN", "en"),
    ],
)
def test_the_browser_language_decides_when_no_choice_was_made(client, header, language):
    response = client.get(PAGE, headers={"Accept-Language": header})
    assert html_lang(response) == language


def test_a_hindi_browser_gets_hindi_text(client):
    page = client.get(PAGE, headers={"Accept-Language": "hi-IN"}).get_data(as_text=True)
    assert "पृष्ठ नहीं मिला" in page and "उत्तर प्रदेश पुलिस सामुदायिक संपर्क योजना" in page
    assert 'lang="en">English</button>' in page  # the switch offers the other language


def fresh_locale():
    """Forget the locale Flask-Babel cached on the app context.

    The test app keeps one app context for the whole test, so every request of a test would
    otherwise reuse the first request's language (in production each request has its own).
    """
    flask_babel.refresh()


def test_the_switch_changes_the_language_and_the_session_remembers_it(client):
    english = client.get(PAGE).get_data(as_text=True)
    assert 'action="/language/hi"' in english and f'name="next" value="{PAGE}"' in english

    response = client.post("/language/hi", data={"next": PAGE})
    assert response.status_code == 302 and response.location.endswith(PAGE)

    # Remembered in the session, even against an English browser.
    fresh_locale()
    page = client.get(PAGE, headers={"Accept-Language": "en"})
    assert html_lang(page) == "hi"
    assert "पृष्ठ नहीं मिला" in page.get_data(as_text=True)

    client.post("/language/en", data={"next": PAGE})
    fresh_locale()
    page = client.get(PAGE, headers={"Accept-Language": "hi"})
    assert html_lang(page) == "en"
    assert "Page not found" in page.get_data(as_text=True)


def test_signed_in_pages_follow_the_switch_too(client, state, make_officer, login_as):
    login_as(make_officer("control_room", state))
    client.post("/language/hi", data={"next": "/geo/search"})
    fresh_locale()
    page = client.get("/geo/search").get_data(as_text=True)
    assert '<html lang="hi">' in page and "स्थान खोजें" in page and "जनपद एवं थाने" in page


def test_the_switch_refuses_an_unknown_language(client):
    assert client.post("/language/fr", data={"next": "/"}).status_code == 404


def test_the_switch_never_redirects_off_the_site(client):
    response = client.post("/language/hi", data={"next": "https://example.com/"})
    assert response.status_code == 302
    assert "example.com" not in response.location
