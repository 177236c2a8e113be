"""The meeting form. It collects what was typed; ``cplan.services.meetings`` checks it. The time
is typed in IST and handed to the service in UTC."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from cplan.formats import IST
from cplan.web.forms import Form


class MeetingForm(Form):
    """When, where, who chaired, topics and notes; villages and attendance are ticked boxes."""

    held_at = DateTimeLocalField(
        _l("Held on (IST)"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter the date and time of the meeting."))],
    )
    venue = StringField(
        _l("Where it was held"),
        validators=[InputRequired(_l("Say where the meeting was held.")), Length(max=200)],
    )
    chaired_by = StringField(
        _l("Chaired by"),
        validators=[InputRequired(_l("Say who chaired the meeting.")), Length(max=200)],
    )
    topics = TextAreaField(_l("Topics discussed"), validators=[Optional(), Length(max=4000)])
    notes = TextAreaField(_l("Notes of the meeting"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Record the meeting"))

    def held_at_utc(self):
        return self.held_at.data.replace(tzinfo=IST).astimezone(UTC)
