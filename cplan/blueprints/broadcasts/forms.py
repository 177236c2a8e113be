"""Forms of the broadcast pages. They collect what was typed; ``cplan.services.broadcasts`` and
``cplan.services.dlt`` check it."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from cplan.services import roster
from cplan.web.forms import Form
from cplan.web.kit import choices

MAX_VALUES = 5
AUDIENCE_LABELS = {
    "places": _l("The station's contacts, or those of the villages chosen below"),
    "sensitive": _l("Contacts of the station's sensitive places in the active election"),
    "out_of_date": _l("The station's out-of-date contacts (not verified within the policy)"),
}
CHANNEL_LABELS = {
    "phone_call": _l("On a phone call to the police"),
    "in_person": _l("In person, to an officer"),
    "written": _l("In writing, to the station"),
    "sms_reply": _l("By replying to a broadcast SMS"),
}


class CheckboxList(SelectMultipleField):
    """A list of checkboxes (villages): usable on a phone where a multiple select is not."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ComposeForm(Form):
    """Template, values, audience; "Preview" shows what will go, "Send" saves it."""

    template = SelectField(_l("Registered template"), choices=[], validate_choice=False)
    value_1 = StringField(_l("Value 1"), validators=[Optional(), Length(max=60)])
    value_2 = StringField(_l("Value 2"), validators=[Optional(), Length(max=60)])
    value_3 = StringField(_l("Value 3"), validators=[Optional(), Length(max=60)])
    value_4 = StringField(_l("Value 4"), validators=[Optional(), Length(max=60)])
    value_5 = StringField(_l("Value 5"), validators=[Optional(), Length(max=60)])
    station = HiddenField()
    audience = RadioField(
        _l("Who receives it"), choices=choices(AUDIENCE_LABELS.items()), default="places"
    )
    places = CheckboxList(
        _l("Villages of the station"),
        choices=[],
        validate_choice=False,
        description=_l("None chosen: every village of the station."),
    )
    category = SelectField(
        _l("Category"),
        choices=choices(roster.choices("category"), _l("Contacts of every category")),
        validate_choice=False,
    )
    urgent = BooleanField(
        _l("Urgent: may be sent between 21:00 and 09:00"),
        description=_l("Only the SP office can mark a broadcast urgent."),
    )
    send_at = DateTimeLocalField(
        _l("Send at (IST)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Empty: as soon as it may go. Not between 21:00 and 09:00 unless urgent."),
    )
    preview = SubmitField(_l("Preview the message"))
    send = SubmitField(_l("Send the broadcast"))

    def values(self) -> list[str]:
        return [(self[f"value_{n}"].data or "") for n in range(1, MAX_VALUES + 1)]


class DecisionForm(Form):
    version = IntegerField(validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    urgent = BooleanField(_l("Urgent: may be sent between 21:00 and 09:00"))
    approve = SubmitField(_l("Approve and send"))
    reject = SubmitField(_l("Reject"))


class CancelForm(Form):
    version = IntegerField(validators=[InputRequired()])
    cancel = SubmitField(_l("Cancel the broadcast"))


class OptOutForm(Form):
    channel = RadioField(
        _l("How did the citizen ask?"),
        choices=choices(CHANNEL_LABELS.items()),
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Record: no more broadcasts"))


class OptInForm(Form):
    submit = SubmitField(_l("Receive broadcasts again"))
