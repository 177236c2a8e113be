"""Forms of the drive pages. They collect what was typed; ``cplan.services.drives`` checks it."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from cplan.models.drives import VerificationMethod
from cplan.web.forms import Form
from cplan.web.kit import choices

METHOD_LABELS = {
    VerificationMethod.CALL: _l("By call"),
    VerificationMethod.VISIT: _l("By visit"),
    VerificationMethod.SMS: _l("By SMS reply"),
    VerificationMethod.MEETING: _l("At a meeting"),
}


class OpenDriveForm(Form):
    """The area, the optional election phase, the dates and how old a verification may be."""

    name = StringField(_l("Name of the drive"), validators=[Optional(), Length(max=200)])
    scope_unit_id = SelectField(
        _l("Area of the drive"),
        choices=[],
        validators=[InputRequired(_l("Choose an area from the list."))],
    )
    phase_id = SelectField(_l("Election phase of the drive"), choices=[], validators=[Optional()])
    opens_on = DateField(
        _l("Drive opens on"), validators=[InputRequired(_l("Enter the day the drive opens."))]
    )
    due_on = DateField(
        _l("Drive due on"), validators=[InputRequired(_l("Enter the day it is due."))]
    )
    max_age_days = StringField(
        _l("A verification counts for (days)"),
        default="30",
        validators=[
            InputRequired(_l("Say how old a verification may be, in days.")),
            Regexp(r"^[0-9]{1,4}$", message=_l("Enter a number of days, such as 30.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Open the drive"))


class OutcomeForm(Form):
    """One tap: the task's version and the outcome button pressed (confirmed, unreachable)."""

    version = HiddenField(validators=[InputRequired()])
    method = SelectField(
        _l("Verified how"),
        choices=choices(METHOD_LABELS.items()),
        default="call",
        validators=[Optional()],
    )


class CloseDriveForm(Form):
    submit = SubmitField(_l("Close the drive"))


class RetryOpeningForm(Form):
    submit = SubmitField(_l("Try opening it again"))
