"""Sign-in forms. Lengths are capped so oversized input fails validation, never the server."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from cplan.web.forms import Form


class CugForm(Form):
    cug = StringField(
        _l("CUG mobile number of your post"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"inputmode": "tel", "autocomplete": "tel"},
    )
    submit = SubmitField(_l("Send code"))


class CodeForm(Form):
    code = StringField(
        _l("6-digit code"),
        validators=[DataRequired(), Length(max=16)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Verify"))


class OfficerForm(Form):
    pno = StringField(
        _l("Your PNO"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "username", "autocapitalize": "characters"},
    )
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class SetupForm(Form):
    pno = StringField(
        _l("Your PNO"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "username"},
    )
    code = StringField(
        _l("Setup code from your administrator"), validators=[DataRequired(), Length(max=40)]
    )
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set password"))


class AuthenticatorForm(Form):
    code = StringField(
        _l("6-digit code from the app"),
        validators=[DataRequired(), Length(max=16)],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Confirm"))


class SignOutForm(Form):
    submit = SubmitField(_l("Sign out"))
