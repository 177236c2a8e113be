"""Forms of the geography pages: place search, and correcting place names (one place, or a
file per district checked first and then committed with its SHA-256)."""

from flask_babel import lazy_gettext as _l
from wtforms import SearchField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from cplan.services.place_names import MAX_NAME_LENGTH
from cplan.services.places import MAX_QUERY_LENGTH
from cplan.web.forms import FileCheckForm, FilterForm, Form, SameFileForm


class PlaceSearchForm(FilterForm):
    """Find a village, town or ward by name in either script, or by its LGD code (a GET form)."""

    q = SearchField(
        _l("Name or LGD code"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l("In Hindi or English, e.g. बड़ौत or Baraut, or a code such as 119300."),
    )


class PlaceNamesForm(Form):
    """A place's names, prefilled with today's; ``cplan.services.place_names`` checks them."""

    name_en = StringField(
        _l("Name in English"),
        validators=[InputRequired(_l("Enter the name in English.")), Length(max=MAX_NAME_LENGTH)],
        description=_l("Roman letters, as on signboards and in the LGD list, e.g. Baraut."),
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH, "lang": "en"},
    )
    name_hi = StringField(
        _l("Name in Hindi"),
        validators=[Optional(), Length(max=MAX_NAME_LENGTH)],
        description=_l("Devanagari, as people of the place write it, e.g. बड़ौत."),
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME_LENGTH, "lang": "hi"},
    )
    submit = SubmitField(_l("Save the names"))


class NamesFileForm(FileCheckForm):
    """Step 1 of a file of name corrections: upload it for the dry run."""

    HINT = _l("At most 2 MB and 5,000 rows. Nothing is changed in this step.")


class NamesCommitForm(SameFileForm):
    """Step 2: the same file again, to correct every row or none."""

    submit = SubmitField(_l("Correct the names"))
