"""The breach form: the facts, and when each report or notice was made (IST)."""

from datetime import UTC

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from cplan.formats import IST
from cplan.services.breaches import FIELDS, NOTIFICATIONS, BreachFacts
from cplan.web.forms import Form

_ASCII_COUNT = Regexp(r"^[0-9]{1,9}$", message=_l("Enter a number of people in digits 0-9."))


def _moment(label, required=False):
    validators = [InputRequired(_l("Enter a date and time."))] if required else [Optional()]
    return DateTimeLocalField(label, format="%Y-%m-%dT%H:%M", validators=validators)


class BreachForm(Form):
    """Record a breach or bring its record up to date."""

    version = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,9}$")])
    found_at = _moment(_l("When it was found (IST)"), required=True)
    summary = TextAreaField(
        _l("What happened"),
        validators=[InputRequired(_l("Say what happened.")), Length(max=4000)],
    )
    data_affected = TextAreaField(
        _l("Personal data affected"),
        description=_l("Which kinds: names, mobile numbers, addresses, notes..."),
        validators=[
            InputRequired(_l("Say which personal data was affected.")),
            Length(max=2000),
        ],
    )
    people_affected = StringField(
        _l("People affected"),
        description=_l("Your best estimate; correct it as you learn more."),
        validators=[InputRequired(_l("Enter a number of people in digits 0-9.")), _ASCII_COUNT],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    measures = TextAreaField(_l("Measures taken"), validators=[Optional(), Length(max=4000)])
    cert_in_reported_at = _moment(_l("Reported to CERT-In at (IST)"))
    board_told_at = _moment(_l("Data Protection Board told at (IST)"))
    people_told_at = _moment(_l("People affected told at (IST)"))
    board_report_at = _moment(_l("Full report to the Board sent at (IST)"))
    submit = SubmitField(_l("Save the breach record"))

    def facts(self) -> BreachFacts:
        """The form's values for the service, times in UTC."""
        values = {name: self[name].data for name in FIELDS}
        for name in ("found_at", *NOTIFICATIONS):
            if values[name] is not None:
                values[name] = values[name].replace(tzinfo=IST).astimezone(UTC)
        values["people_affected"] = int(values["people_affected"])
        values["measures"] = values["measures"] or ""
        return BreachFacts(**values)

    def show(self, breach) -> None:
        """Fill the form with ``breach`` as recorded (times in IST, without seconds)."""
        self.version.data = str(breach.version)
        for name in FIELDS:
            value = getattr(breach, name)
            if name in ("found_at", *NOTIFICATIONS) and value is not None:
                value = value.astimezone(IST).replace(tzinfo=None, second=0, microsecond=0)
            elif name == "people_affected":
                value = str(value)
            self[name].data = value
