"""The form of "Confirm it is you": the signed-in officer's password, nothing else."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired, Length

from cplan.web.forms import Form


class ConfirmPasswordForm(Form):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password", "autofocus": True},
    )
    submit = SubmitField(_l("Confirm"))
