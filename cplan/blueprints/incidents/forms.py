"""Forms of the incident pages, and the translated labels of incident values.

The forms only collect what was typed; ``cplan.services.incidents`` checks it. Times are typed
in IST and handed to the service in UTC.
"""

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import Select

from cplan.services.incidents import IST, LABELS
from cplan.web.forms import FilterForm, Form
from cplan.web.kit import choices

WINDOWS = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}


def now_in_ist() -> datetime:
    """Now in IST to the minute, naive, as a ``datetime-local`` input shows it (the default of
    the incident form's times: most reports are typed as they come in)."""
    return datetime.now(UTC).astimezone(IST).replace(second=0, microsecond=0, tzinfo=None)


# The first option of a required list: nothing is chosen until the officer chooses.
CHOOSE = _l("Choose…")


def ist_to_utc(value: datetime | None) -> datetime | None:
    """A naive time typed in IST as an aware UTC time."""
    if value is None:
        return None
    return value.replace(tzinfo=IST).astimezone(UTC)


class PlainSelect(Select):
    """The same ``<select>`` markup as WTForms' own, without its general attribute handling per
    option: the feed's filters render a hundred options (75 districts) on every page."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')


class FeedFilterForm(FilterForm):
    """The feed's filters (a GET form: no CSRF token, invalid values are ignored)."""

    q = StringField(
        _l("Reference or UP-112 event number"),
        validators=[Optional(), Length(max=40)],
        render_kw={"autocomplete": "off", "inputmode": "text"},
    )
    district = SelectField(_l("District"), choices=[], validate_choice=False, widget=PlainSelect())
    kind = SelectField(
        _l("Kind"),
        choices=choices(LABELS["kind"].items(), _l("Any kind")),
        validate_choice=False,
        widget=PlainSelect(),
    )
    status = SelectField(
        _l("Status"),
        choices=choices(LABELS["status"].items(), _l("Any status")),
        validate_choice=False,
        widget=PlainSelect(),
    )
    severity = SelectField(
        _l("Severity"),
        choices=choices(LABELS["severity"].items(), _l("Any severity")),
        validate_choice=False,
        widget=PlainSelect(),
    )
    window = SelectField(
        _l("Reported"),
        choices=choices(
            [
                ("24h", _l("In the last 24 hours")),
                ("7d", _l("In the last 7 days")),
                ("30d", _l("In the last 30 days")),
            ],
            _l("Any time"),
        ),
        validate_choice=False,
        widget=PlainSelect(),
    )
    open = BooleanField(_l("Open only"), false_values=("", "0"))


class PlaceSearchForm(FilterForm):
    """Find places to add to a new incident by name (GET)."""

    q = StringField(_l("Find a village or ward by name"), validators=[Optional(), Length(max=100)])


class IncidentForm(Form):
    """Report an incident (phone-friendly: one column)."""

    places = SelectMultipleField(
        _l("Affected villages or wards"),
        choices=[],
        validate_choice=False,
        description=_l("Choose one or more places of one district."),
    )
    kind = SelectField(
        _l("Kind"),
        choices=choices(LABELS["kind"].items(), CHOOSE),
        validators=[InputRequired(_l("Choose the kind of incident."))],
    )
    severity = SelectField(
        _l("Severity"),
        choices=choices(LABELS["severity"].items(), CHOOSE),
        validators=[InputRequired(_l("Choose how severe it is."))],
    )
    occurred_at = DateTimeLocalField(
        _l("When it happened (IST)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter a date and time."))],
        default=now_in_ist,
    )
    reported_at = DateTimeLocalField(
        _l("When it was reported (IST)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter a date and time."))],
        default=now_in_ist,
    )
    source = SelectField(
        _l("Source"),
        choices=choices(LABELS["source"].items(), CHOOSE),
        validators=[InputRequired(_l("Choose where the report came from."))],
    )
    up112_number = StringField(
        _l("UP-112 event number"),
        validators=[Optional(), Length(max=32)],
        render_kw={"autocomplete": "off"},
    )
    summary = TextAreaField(
        _l("Summary"), validators=[InputRequired(_l("Write what was reported.")), Length(max=4000)]
    )
    submit = SubmitField(_l("Open the incident"))


class StatusForm(Form):
    status = SelectField(_l("New status"), choices=[], validate_choice=False)
    version = HiddenField()
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Required when reopening a closed incident."),
    )
    submit = SubmitField(_l("Change status"))


class NoteForm(Form):
    text = TextAreaField(
        _l("Note"), validators=[InputRequired(_l("Write something.")), Length(max=4000)]
    )
    public = BooleanField(_l("These are facts pushed to the public"))
    submit = SubmitField(_l("Add to the timeline"))


class CallForm(Form):
    """One tap: the outcome is the button pressed."""

    contact_id = HiddenField()
    outcome = SelectField(
        _l("Outcome"), choices=choices(LABELS["outcome"].items()), validators=[InputRequired()]
    )
    said = StringField(
        _l("What they said"),
        validators=[Optional(), Length(max=4000)],
        render_kw={"autocomplete": "off"},
    )


class ActionForm(Form):
    """A button that only needs the CSRF token (claim, release)."""


class ReviewForm(Form):
    comment = TextAreaField(_l("Review comment"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Mark reviewed"))


class EscalationForm(Form):
    """Escalate to a higher unit; the choices are set by the view (the units above the post)."""

    unit = SelectField(
        _l("Escalate to"), choices=[], validate_choice=False, validators=[InputRequired()]
    )
    note = TextAreaField(_l("Why"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Escalate"))


class CorrectionForm(Form):
    """A correction is a new entry naming the old one; the old one stays as written."""

    text = TextAreaField(
        _l("The correction"),
        validators=[InputRequired(_l("Write the correction.")), Length(max=4000)],
    )
    submit = SubmitField(_l("Add the correction"))


class TipForm(Form):
    """What a contact told the police, recorded as an incident of the contact's place."""

    summary = TextAreaField(
        _l("What the contact said"),
        validators=[InputRequired(_l("Write what was reported.")), Length(max=4000)],
    )
    kind = SelectField(
        _l("Kind"),
        choices=choices(LABELS["kind"].items(), CHOOSE),
        validators=[InputRequired(_l("Choose the kind of incident."))],
    )
    severity = SelectField(
        _l("Severity"),
        choices=choices(LABELS["severity"].items(), CHOOSE),
        validators=[InputRequired(_l("Choose how severe it is."))],
    )
    confidential = BooleanField(
        _l("Confidential: visible from the ASP upwards only"),
        description=_l("For information on criminal activity that could expose the contact."),
    )
    submit = SubmitField(_l("Record the tip"))
