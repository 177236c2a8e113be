"""The search form (a GET form: a search changes nothing and its URL can be shared)."""

from flask_babel import lazy_gettext as _l
from wtforms import SearchField
from wtforms.validators import Length

from cplan.services.search import MAX_QUERY_LENGTH
from cplan.web.forms import FilterForm


class SearchForm(FilterForm):
    """Find a village, town, ward or contact by name (either script), mobile number or LGD code."""

    q = SearchField(
        _l("Name, mobile number or LGD code"),
        validators=[Length(max=MAX_QUERY_LENGTH)],
        description=_l(
            "In Hindi or English, e.g. बड़ौत or Baraut, राम किशोर or Ram Kishore, "
            "98765 43210, or a code such as 119300."
        ),
    )
