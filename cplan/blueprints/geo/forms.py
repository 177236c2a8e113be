"""Forms of the geography pages."""
from flask_babel import lazy_gettext as _l
from wtforms import SearchField
from wtforms.validators import Length

from cplan.forms import FilterForm
from cplan.services.places import MAX_QUERY_LENGTH


class PlaceSearchForm(FilterForm):
    """Find a village, town or ward by name in either script, or by its LGD code (a GET form)."""

    q = SearchField(
        _l("Name or LGD code"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l("In Hindi or English, e.g. बड़ौत or Baraut, or a code such as 119300."),
    )
