"""The audit page's filter form (GET: a filtered view can be bookmarked or shared)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from cplan.models.audit import AuditOutcome
from cplan.web.forms import FilterForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AuditFilterForm(FilterForm):
    """Narrow the audit list by officer, post, action, outcome and dates (IST)."""

    pno = StringField(
        _l("Officer PNO"),
        validators=[Optional(), Length(max=20)],
        filters=[_strip],
        render_kw={"autocapitalize": "characters", "autocomplete": "off"},
    )
    post = StringField(
        _l("Post"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
        description=_l("Part of the post's title, e.g. SHO Baraut."),
    )
    action = StringField(
        _l("Action"),
        validators=[Optional(), Length(max=64)],
        filters=[_strip],
        description=_l("The start of the action, e.g. auth. or roster.viewed."),
        render_kw={"autocapitalize": "off", "autocomplete": "off", "spellcheck": "false"},
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice(AuditOutcome.SUCCESS.value, _l("Success")),
            SelectChoice(AuditOutcome.FAILURE.value, _l("Failure")),
            SelectChoice(AuditOutcome.DENIED.value, _l("Denied")),
        ],
        validators=[Optional()],
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    @property
    def active(self) -> bool:
        """True when any filter has a value (the filter panel then stays open)."""
        return any(
            getattr(self, name).raw_data and getattr(self, name).raw_data[0]
            for name in ("pno", "post", "action", "outcome", "date_from", "date_to")
        )

    def filters(self, timezone: ZoneInfo) -> dict:
        """Keyword arguments for ``events_in_scope`` from the fields that are valid.

        Dates are whole days in ``timezone`` (IST); the end date is included.
        """

        def ok(name):
            field = getattr(self, name)
            return not field.errors and field.data

        filters = {
            name: getattr(self, name).data
            for name in ("pno", "post", "action", "outcome")
            if ok(name)
        }
        if ok("date_from"):
            filters["since"] = datetime.combine(self.date_from.data, time.min, tzinfo=timezone)
        if ok("date_to"):
            next_day = self.date_to.data + timedelta(days=1)
            filters["until"] = datetime.combine(next_day, time.min, tzinfo=timezone)
        return filters
