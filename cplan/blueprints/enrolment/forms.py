"""Forms of the enrolment pages: the queue's filters, decisions, corrections, removals, erasure.

Every decision form carries the ``version`` of the record the officer saw (a hidden field), so
the service can decide by compare-and-set. Ids and versions are checked as ASCII digits (Python's
``int()`` would accept Devanagari and full-width digits too).
"""

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from cplan.blueprints.roster.forms import ContactFields
from cplan.services import enrolment, roster
from cplan.services.roster import ContactDetails
from cplan.web.forms import FilterForm, Form
from cplan.web.kit import choices

ASCII_NUMBER = re.compile(r"[0-9]{1,9}")
# A bulk pick: "<contact id>:<version seen>".
PICK = re.compile(r"([0-9]{1,9}):([0-9]{1,9})")
AGE_CHOICES = choices(
    [
        ("3", _l("Waiting more than 3 days")),
        ("7", _l("Waiting more than 7 days")),
        ("14", _l("Waiting more than 14 days")),
        ("30", _l("Waiting more than 30 days")),
    ],
    _l("Any age"),
)


def ascii_number(form, field):
    """A whole number written in ASCII digits."""
    if not ASCII_NUMBER.fullmatch((field.data or "").strip()):
        raise ValidationError(_l("This form is out of date. Reload the page and try again."))


def parse_picks(values) -> dict[int, int]:
    """Bulk picks ("id:version") as {id: version}; anything malformed is ignored."""
    picks = {}
    for value in values:
        match = PICK.fullmatch((value or "").strip())
        if match:
            picks[int(match.group(1))] = int(match.group(2))
    return picks


def reject_reason_choices() -> list:
    """The reasons for refusing an enrolment or a change, translated, a blank one first."""
    return choices(
        ((code, enrolment.REJECT_REASON_LABELS[code]) for code in enrolment.REJECT_REASONS),
        _l("Choose a reason"),
    )


class QueueFilterForm(FilterForm):
    """The approval queue's filters (a GET form: no CSRF, nothing changes)."""

    station = SelectField(
        _l("Police station"), choices=[], validate_choice=True, validators=[Optional()]
    )
    place = SelectField(
        _l("Village or ward"), choices=[], validate_choice=True, validators=[Optional()]
    )
    category = SelectField(
        _l("Category"),
        choices=choices(roster.choices("category"), blank=_l("Any category")),
        validators=[Optional()],
    )
    submitter = StringField(
        _l("Submitted by (PNO)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    age = SelectField(_l("Waiting"), choices=AGE_CHOICES, validators=[Optional()])
    q = StringField(
        _l("Name, number, village or station"),
        validators=[Optional(), Length(max=100)],
        render_kw={"autocomplete": "off", "type": "search"},
    )
    sort = SelectField(
        _l("Order"),
        choices=choices([("new", _l("Newest first"))], _l("Oldest first")),
        validators=[Optional()],
    )
    submit = SubmitField(_l("Filter"))


class DecisionForm(Form):
    """Approve: the version seen and where to go back to."""

    version = HiddenField(validators=[ascii_number])
    back = HiddenField()
    submit = SubmitField(_l("Approve"))


class RejectForm(DecisionForm):
    """Reject: a reason from the list and a note (required for "other")."""

    reason = SelectField(
        _l("Reason"),
        choices=reject_reason_choices(),
        validators=[InputRequired(_l("Choose a reason from the list."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Reject"))


class BulkApproveForm(Form):
    """The confirmed bulk approval: the picks (id:version) shown on the confirmation page."""

    back = HiddenField()
    submit = SubmitField(_l("Approve them"))


class CorrectionForm(ContactFields, Form):
    """New values for an active contact's name, numbers and category (prefilled with today's; the
    name in the other script only when a person wrote or checked it, see
    ``OtherScriptSpelling``)."""

    NAME_OTHER_HINT = _l(
        "Press “Check spelling” to see the computer's spelling and correct it. Left empty, "
        "the computer spells it, marked as not checked."
    )

    submit = SubmitField(_l("Propose the correction"))

    def details(self, contact) -> ContactDetails:
        """The typed values, with the fields a correction does not touch taken from ``contact``."""
        name_other = self.name_other_to_save()
        if (
            contact.name_other_generated
            and (self.name.data or "").strip() != contact.name
            and name_other.strip() == contact.name_other
        ):
            name_other = (
                ""  # the name changed: transliterate it afresh rather than keep the old one
            )
        return ContactDetails(
            name=self.name.data or "",
            name_other=name_other,
            mobile=self.mobile.data or "",
            mobile_alt=self.mobile_alt.data or "",
            whatsapp=bool(self.whatsapp.data),
            category=self.category.data or "",
            gender=contact.gender.value,
            address=contact.address,
            notes=contact.notes,
            confidential=contact.confidential,
            consent_on=contact.consent_on,
            consent_language=contact.consent_language,
        )


class MoveForm(Form):
    """Another village or ward of the same police station."""

    place = SelectField(
        _l("Move to"), choices=[], validators=[InputRequired(_l("Choose a village from the list."))]
    )
    submit = SubmitField(_l("Propose the move"))


class RemovalForm(Form):
    """Why a contact should leave the roster, and a note."""

    reason = SelectField(
        _l("Reason"),
        choices=choices(roster.choices("inactive_reason"), blank=_l("Choose a reason")),
        validators=[InputRequired(_l("Choose a reason from the list."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    submit = SubmitField(_l("Propose the removal"))


class EraseForm(Form):
    """Erasure on a citizen's request: a note on the request and an explicit confirmation."""

    note = TextAreaField(
        _l("The citizen's request"),
        validators=[InputRequired(_l("Say how and when the citizen asked.")), Length(max=1000)],
        description=_l(
            "For example: asked in person at the station on 2 March. The audit "
            "trail records that the request was noted, not these words."
        ),
    )
    confirm = BooleanField(
        _l("I understand that the name and numbers are deleted for good"),
        validators=[InputRequired(_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Erase personal data"))
