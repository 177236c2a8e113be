"""The base of every form: the form library's own messages in the reader's language.

WTForms ships no Hindi catalogue, and Flask-WTF looks only in WTForms' own, so "This field is
required." or "Field cannot be longer than 200 characters." stayed English on a Hindi page.
``Form.Meta.get_translations`` answers WTForms' ``gettext``/``ngettext`` from the app's own
catalogue instead: the library's messages (every msgid of WTForms' template, and Flask-WTF's
CSRF and file-field messages) are entries of ``cplan/translations/hi/LC_MESSAGES/messages.po``,
and ``tests/test_forms.py`` checks them against the installed WTForms. Flask-WTF raises its
CSRF messages without gettext; the CSRF class here passes them through the same catalogue.

Every form of the app derives from ``Form`` (a POST form with a CSRF token) or ``FilterForm``
(a GET form: filters and searches change nothing and live in the URL, so no token);
``tests/test_forms.py`` walks ``cplan`` and proves it. The ``PersonOrPlaceName`` validator
checks typed names of people and places with the one rule of ``cplan.services.names``.
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired, Regexp, ValidationError

from cplan.services import names
from cplan.web.i18n import request_translations


class CatalogueTranslations:
    """WTForms' translations object, answered from the request's catalogue (English outside
    a request)."""

    def gettext(self, string: str) -> str:
        return request_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return request_translations().ungettext(singular, plural, n)


CATALOGUE = CatalogueTranslations()


class _TranslatedCSRF(FlaskForm.Meta.csrf_class):
    """Flask-WTF's CSRF check, its refusal ("The CSRF token has expired.") translated."""

    def validate_csrf_token(self, form, field):
        try:
            super().validate_csrf_token(form, field)
        except ValidationError as error:
            raise ValidationError(CATALOGUE.gettext(str(error.args[0]))) from error


class Form(FlaskForm):
    """A form that changes something: CSRF token, messages in the reader's language."""

    class Meta:
        csrf_class = _TranslatedCSRF

        def get_translations(self, form):
            return CATALOGUE


class FilterForm(Form):
    """A GET form (filters, searches): no CSRF token, since it changes nothing and its URL
    may be bookmarked or shared."""

    class Meta:
        csrf = False


class PersonOrPlaceName:
    """Validator: the field holds a name with at least one letter (``names.clean_name``).

    An empty field is left to ``InputRequired`` / ``Optional``; the service checks again."""

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            names.clean_name(field.data, max_length=names.MAX_LENGTH)
        except names.InvalidName as error:
            raise ValidationError(str(error)) from error


# ---- a file in two steps: the dry run, then the same file again --------------------------------

SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class FileCheckForm(Form):
    """Step 1 of a file import: upload it for the dry run. ``HINT`` gives the limits and says
    that this step changes nothing."""

    HINT = ""

    file = FileField(_l("CSV or Excel file"), validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Check the file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.file.description = self.HINT


class SameFileForm(Form):
    """Step 2: the same file again, to commit every row or none. The SHA-256 the dry run found
    rides in a hidden field (nothing is kept on the server between the steps); a subclass names
    its ``submit`` button."""

    file = FileField(
        _l("The same file again"),
        validators=[FileRequired(_l("Choose a file."))],
        description=_l(
            "Choose the file you just checked; it is checked again before anything is saved."
        ),
    )
    sha256 = HiddenField(validators=[DataRequired(), Regexp(SHA256_HEX)])
