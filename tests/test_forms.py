"""Forms speak the reader's language: the form library's own messages come from our catalogue.

WTForms has no Hindi catalogue of its own; every form of the app derives from ``cplan.web.forms``,
whose Meta answers WTForms' gettext from ``messages.po``.
"""

import importlib
import inspect
import os
import pkgutil
import re
from pathlib import Path

import flask_wtf
import pytest
import wtforms
from babel.messages.pofile import read_po
from wtforms import StringField
from wtforms.validators import DataRequired, Length

import cplan.blueprints
from cplan.web.forms import FilterForm, Form

HINDI_PO = (
    Path(__file__).resolve().parents[1]
    / "cplan"
    / "translations"
    / "hi"
    / "LC_MESSAGES"
    / "messages.po"
)


@pytest.fixture(scope="module")
def hindi_catalogue():
    with open(HINDI_PO, "rb") as po:
        return read_po(po, locale="hi")


def _translated(catalogue, msgid) -> bool:
    entry = catalogue.get(msgid)
    if entry is None or entry.fuzzy:
        return False
    forms = entry.string if isinstance(entry.string, tuple) else (entry.string,)
    return all(forms)


def test_every_message_of_the_installed_wtforms_has_a_hindi_translation(hindi_catalogue):
    template = Path(os.path.dirname(wtforms.__file__)) / "locale" / "wtforms.pot"
    with open(template, "rb") as pot:
        msgids = [message.id for message in read_po(pot) if message.id]
    assert len(msgids) > 30
    missing = [
        msgid
        for msgid in msgids
        if not _translated(hindi_catalogue, msgid[0] if isinstance(msgid, tuple) else msgid)
    ]
    assert not missing, missing


def test_flask_wtfs_csrf_and_file_messages_have_hindi_translations(hindi_catalogue):
    package = Path(os.path.dirname(flask_wtf.__file__))
    source = (package / "csrf.py").read_text() + (package / "file.py").read_text()
    # Literal messages only: FileSize builds its message with an f-string, so no catalogue
    # can hold it (the app does not use FileSize).
    messages = set(re.findall(r'ValidationError\("([^"]+)"\)', source))
    messages |= set(re.findall(r'gettext\(\s*"([^"{]*(?:\{extensions\})?[^"]*)"\s*\)', source))
    assert "The CSRF token has expired." in messages
    assert "File does not have an approved extension." in messages
    missing = [message for message in sorted(messages) if not _translated(hindi_catalogue, message)]
    assert not missing, missing


def _form_classes():
    for module_info in pkgutil.walk_packages(cplan.blueprints.__path__, "cplan.blueprints."):
        module = importlib.import_module(module_info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, wtforms.Form) and value.__module__ == module.__name__:
                yield value


def test_every_form_of_the_app_derives_from_the_translated_base():
    classes = list(_form_classes())
    assert len(classes) > 20
    strays = [f"{cls.__module__}.{cls.__name__}" for cls in classes if not issubclass(cls, Form)]
    assert not strays, f"derive these from cplan.web.forms.Form or FilterForm: {strays}"


def _hindi(client):
    client.post("/language/hi")


def test_a_required_field_and_a_too_long_field_read_in_hindi_on_the_officer_page(
    client, db, login_as, make_district, make_officer
):
    district = make_district("Baghpat", code="124")
    login_as(make_officer("sp_office", district))
    _hindi(client)
    empty = client.post(
        "/admin/officers/new", data={"pno": "", "name": "राम", "unit": str(district.id)}
    )
    page = empty.get_data(as_text=True)
    assert "यह भरना आवश्यक है।" in page
    assert "This field is required." not in page

    long = client.post(
        "/admin/officers/new", data={"pno": "AB1234", "name": "क" * 201, "unit": str(district.id)}
    )
    page = long.get_data(as_text=True)
    assert "इसमें अधिकतम 200 अक्षर हो सकते हैं।" in page
    assert "Field cannot be longer" not in page


def test_the_same_fields_read_in_english_on_an_english_page(
    client, db, login_as, make_district, make_officer
):
    district = make_district("Baghpat", code="124")
    login_as(make_officer("sp_office", district))
    page = client.post(
        "/admin/officers/new", data={"pno": "", "name": "x" * 201, "unit": str(district.id)}
    ).get_data(as_text=True)
    assert "This field is required." in page
    assert "Field cannot be longer than 200 characters." in page


def test_a_choice_from_outside_the_list_is_refused_in_hindi(
    client, db, login_as, make_district, make_officer
):
    district = make_district("Baghpat", code="124")
    login_as(make_officer("sp_office", district))
    _hindi(client)
    page = client.post(
        "/admin/officers/new", data={"pno": "AB1234", "name": "राम", "unit": "99999"}
    ).get_data(as_text=True)
    assert "यह सूची का विकल्प नहीं है।" in page


class _CsrfProbe(Form):
    name = StringField("name", validators=[DataRequired(), Length(max=5)])


def test_a_refused_csrf_token_is_explained_in_hindi(app):
    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context(
        "/",
        method="POST",
        data={"csrf_token": "forged", "name": "x"},
        headers={"Accept-Language": "hi"},
    ):
        form = _CsrfProbe()
        assert not form.validate()
        assert form.csrf_token.errors == ["फ़ॉर्म का सुरक्षा टोकन सही नहीं है।"]


def test_filter_forms_carry_no_csrf_token(app):
    class Probe(FilterForm):
        q = StringField("q")

    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context("/?q=x"):
        form = Probe(formdata=None)
        assert "csrf_token" not in form._fields
