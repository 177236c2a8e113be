"""The form that ends a device token (a POST with its CSRF token)."""

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField

from cplan.web.forms import Form


class RevokeForm(Form):
    submit = SubmitField(_l("End access"))
