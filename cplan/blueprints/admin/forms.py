"""Forms of the account administration pages: filters (GET, no CSRF) and changes (POST, CSRF).

Select fields that carry record ids coerce with ``coerce_id`` (ASCII digits only) and get their
choices from the view, which builds them from the administrator's own subtree, so an id from
outside it is simply "not a valid choice".
"""

from flask_babel import lazy_gettext as _l
from wtforms import SearchField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from cplan.models.accounts import Role
from cplan.services.phone import InvalidMobile, normalise_mobile
from cplan.web.forms import FilterForm, Form, PersonOrPlaceName
from cplan.web.kit import choices, coerce_id

# What each role is called on screen; the enum values stay in the database and the audit log.
ROLE_LABELS = {
    Role.CONSTABLE: _l("Beat constable / station staff"),
    Role.STATION_OFFICER: _l("Station officer (SHO / SO)"),
    Role.CIRCLE_OFFICER: _l("Circle officer (CO)"),
    Role.ASP: _l("Additional SP (ASP)"),
    Role.SP_OFFICE: _l("SP office"),
    Role.CONTROL_ROOM: _l("Control room (UP-112 / DGP)"),
    Role.STATE_ADMIN: _l("State administrator"),
}


def role_label(role) -> str:
    """The translated name of a role (its raw value if unknown)."""
    try:
        return str(ROLE_LABELS[Role(role)])
    except ValueError:
        return str(role)


def indian_mobile(form, field):
    """The field holds an Indian mobile number (the service checks again and stores E.164)."""
    try:
        normalise_mobile(field.data or "")
    except InvalidMobile as error:
        raise ValidationError(str(error)) from error


class PostFilterForm(FilterForm):
    """Filter the post list by role, unit or title text, and whether active."""

    q = SearchField(_l("Unit or post title"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Role"), validators=[Optional()], validate_choice=True)
    active = SelectField(_l("Status"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = choices(
            ((role.value, label) for role, label in ROLE_LABELS.items()), _l("Any role")
        )
        self.active.choices = choices(
            [("yes", _l("Active only")), ("no", _l("Inactive only"))], _l("Active and inactive")
        )


class NewPostStartForm(FilterForm):
    """First step of creating a post: which role (and, above district level, which district)."""

    role = SelectField(_l("Role of the new post"), validators=[DataRequired()])
    within = SelectField(
        _l("District"),
        coerce=coerce_id,
        validators=[Optional()],
        description=_l("Optional: shortens the list of units to one district."),
    )


class PostForm(Form):
    """Second step: the post's titles, its unit and its CUG number."""

    title_en = StringField(
        _l("Title in English"),
        validators=[DataRequired(), Length(max=200), PersonOrPlaceName()],
        description=_l("For example: SHO Baraut"),
    )
    title_hi = StringField(
        _l("Title in Hindi"),
        validators=[Optional(), Length(max=200), PersonOrPlaceName()],
        description=_l("For example: थानाध्यक्ष बड़ौत"),
    )
    unit = SelectField(_l("Unit"), coerce=coerce_id, validators=[DataRequired()])
    cug = StringField(
        _l("CUG mobile number"),
        validators=[DataRequired(), Length(max=32), indian_mobile],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    submit = SubmitField(_l("Create post"))


class CugForm(Form):
    """Give a post a new CUG number."""

    cug = StringField(
        _l("New CUG mobile number"),
        validators=[DataRequired(), Length(max=32), indian_mobile],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
        description=_l(
            "Everyone signed in through this post is signed out, "
            "and the old number is told of the change by SMS."
        ),
    )
    submit = SubmitField(_l("Change CUG number"))


class AssignForm(Form):
    """Let an officer sign in through a post, found by PNO."""

    pno = StringField(
        _l("PNO of the officer"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    submit = SubmitField(_l("Assign officer"))


class ConfirmForm(Form):
    """A button that changes something: only the CSRF token travels with it."""

    submit = SubmitField(_l("Confirm"))


class OfficerFilterForm(FilterForm):
    """Find officers by PNO or name."""

    q = SearchField(_l("PNO or name"), validators=[Optional(), Length(max=100)])


class OfficerForm(Form):
    """Register an officer."""

    pno = StringField(
        _l("PNO"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("The police number: 4 to 20 letters and digits."),
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), PersonOrPlaceName()]
    )
    name_hi = StringField(
        _l("Name in Hindi"),
        validators=[Optional(), Length(max=200), PersonOrPlaceName()],
        description=_l(
            "In Devanagari, as Hindi pages show it, e.g. राम कुमार. "
            "Leave empty and Hindi pages show the name above."
        ),
    )
    rank = StringField(
        _l("Rank"),
        validators=[Optional(), Length(max=100)],
        description=_l("For example: Sub-Inspector, Head Constable"),
    )
    unit = SelectField(
        _l("Managed by"),
        coerce=coerce_id,
        validators=[DataRequired()],
        description=_l("The district (or the state) whose administrators look after this officer."),
    )
    submit = SubmitField(_l("Register officer"))


class OfficerNamesForm(Form):
    """Correct an officer's name, or add the name in Hindi."""

    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=200), PersonOrPlaceName()]
    )
    name_hi = StringField(
        _l("Name in Hindi"),
        validators=[Optional(), Length(max=200), PersonOrPlaceName()],
        description=_l(
            "In Devanagari, as Hindi pages show it, e.g. राम कुमार. "
            "Leave empty and Hindi pages show the name above."
        ),
    )
    submit = SubmitField(_l("Save names"))
