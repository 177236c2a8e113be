"""Forms of the roster pages: enrolling a contact and stating why numbers are revealed.

The forms only collect what was typed; ``cplan.services.roster`` validates and normalises it and
names the field a refusal belongs to, so a message appears beside the right input.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from cplan.models.roster import Gender
from cplan.services import roster
from cplan.services.roster import ContactDetails, RevealReason
from cplan.web.forms import Form, PersonOrPlaceName
from cplan.web.kit import choices


def _tidy(text: str | None) -> str:
    return " ".join((text or "").split())


class OtherScriptSpelling:
    """The name in the other script, offered by the computer for the officer to accept or correct.

    Without JavaScript: the "Check spelling" button sends the form back to the server, which fills
    the field with the computer's spelling of the name typed (``roster.other_script_spelling``) and
    shows the form again, nothing saved. Chosen over a script calling a JSON endpoint: it works on
    every phone browser, adds no endpoint to protect and no bytes to the page, and the officer is
    asked to look at the spelling exactly once, before saving. What is in the field when the form is
    saved counts as checked by the officer (``name_other_generated`` False); an empty field is spelt
    by the computer at saving and stays marked as not checked.

    ``proposed`` (hidden) remembers the spelling offered: if the officer then changes the name
    and saves without checking again, the stale spelling is dropped and the new name is spelt
    by the computer (marked as not checked) instead.
    """

    check_spelling = SubmitField(_l("Check spelling"))
    proposed = HiddenField()

    def checking_spelling(self) -> bool:
        """The officer pressed "Check spelling" (the view shows the form again, saving nothing)."""
        return self.is_submitted() and bool(self.check_spelling.data)

    def propose_spelling(self) -> None:
        """Fill the field with the computer's spelling, unless the officer wrote one of their
        own."""
        if len(_tidy(self.name.data)) < 2:
            self.name.errors = [_l("Enter the contact's name.")]
            return
        proposal = roster.other_script_spelling(self.name.data)
        typed = _tidy(self.name_other.data)
        if not typed or typed == _tidy(self.proposed.data):
            self.name_other.data = proposal
        self.proposed.data = proposal

    def showing_proposal(self) -> bool:
        """The field holds the computer's spelling, as offered (the page says so beside it)."""
        return bool(self.proposed.data) and _tidy(self.name_other.data) == _tidy(self.proposed.data)

    def name_other_to_save(self) -> str:
        """The other-script name as the officer left it, or "" (the computer spells it at saving)
        when it is a spelling offered for a name changed since."""
        typed = _tidy(self.name_other.data)
        proposed = _tidy(self.proposed.data)
        if typed and typed == proposed and roster.other_script_spelling(self.name.data) != proposed:
            return ""
        return typed


class ContactFields(OtherScriptSpelling):
    """The fields of a contact that enrolling, correcting and sending again share, as the
    partial ``roster/_contact_fields.html`` shows them: the name in both scripts, the numbers,
    WhatsApp and the category. A form gives its own hints (``NAME_OTHER_HINT``, ``MOBILE_HINT``)."""

    NAME_OTHER_HINT = ""
    MOBILE_HINT = ""

    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(_l("Enter the contact's name.")),
            Length(max=200),
            PersonOrPlaceName(),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "words"},
    )
    name_other = StringField(
        _l("Name in the other script"),
        validators=[Optional(), Length(max=200), PersonOrPlaceName()],
        render_kw={"autocomplete": "off"},
    )
    mobile = TelField(
        _l("Mobile number"),
        validators=[InputRequired(_l("Enter a mobile number.")), Length(max=32)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    mobile_alt = TelField(
        _l("Alternate number"),
        validators=[Optional(), Length(max=32)],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    whatsapp = BooleanField(_l("Uses WhatsApp on this number"))
    category = SelectField(
        _l("Category"),
        # A blank first: a category left alone must not save as the first of the list.
        choices=choices(roster.choices("category"), _l("Choose…")),
        validators=[InputRequired(_l("Choose a category from the list."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name_other.description = self.NAME_OTHER_HINT
        self.mobile.description = self.MOBILE_HINT


class EnrolForm(ContactFields, Form):
    """Enrol a respected citizen for a village or ward (phone-friendly: one column, big inputs)."""

    NAME_OTHER_HINT = _l(
        "Optional: press “Check spelling” to see how the computer writes the name in "
        "the other script (Hindi ↔ English), then correct it if needed. Left empty, the "
        "computer's spelling is saved, marked as not checked."
    )
    MOBILE_HINT = _l("Ten digits, e.g. 98765 43210; 0, 91 or +91 in front is fine.")

    gender = SelectField(
        _l("Gender"), choices=choices(roster.choices("gender")), default=Gender.NOT_STATED.value
    )
    address = StringField(_l("Address or landmark"), validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])
    consent_on = DateField(
        _l("Notice given and consent obtained on"),
        validators=[
            InputRequired(_l("Record the date the notice was given and consent obtained."))
        ],
        default=roster.today_ist,
    )
    consent_language = RadioField(
        _l("Language of the notice"),
        choices=choices(roster.choices("notice_language")),
        default="hi",
        validators=[InputRequired(_l("Choose from the list."))],
    )
    confidential = BooleanField(
        _l("Confidential"),
        description=_l("Only the ASP and above will see this contact."),
    )
    confirm_duplicate = BooleanField(_l("Save anyway: I have checked the contacts listed above"))
    submit = SubmitField(_l("Enrol contact"))

    def details(self) -> ContactDetails:
        """What was typed, for ``roster.clean`` / ``roster.enrol``."""
        return ContactDetails(
            name=self.name.data or "",
            name_other=self.name_other_to_save(),
            mobile=self.mobile.data or "",
            mobile_alt=self.mobile_alt.data or "",
            whatsapp=bool(self.whatsapp.data),
            category=self.category.data or "",
            gender=self.gender.data or Gender.NOT_STATED.value,
            address=self.address.data or "",
            notes=self.notes.data or "",
            confidential=bool(self.confidential.data) if "confidential" in self else False,
            consent_on=self.consent_on.data,
            consent_language=self.consent_language.data or "",
        )


class RevealForm(Form):
    """Why full numbers are needed: a reason from the list, and words when it is "other"."""

    reason = SelectField(
        _l("Reason"),
        choices=choices(roster.choices("reveal_reason"), blank=_l("Choose a reason")),
        validators=[InputRequired(_l("Choose why you need the numbers."))],
    )
    note = StringField(
        _l("Details"),
        validators=[Optional(), Length(max=roster.REVEAL_NOTE_LENGTH)],
        description=_l(
            "Required when the reason is “Other”. At most 300 characters; recorded in the audit "
            "trail."
        ),
        render_kw={"maxlength": roster.REVEAL_NOTE_LENGTH, "autocomplete": "off"},
    )
    submit = SubmitField(_l("Show numbers"))

    def reveal_reason(self) -> RevealReason:
        return RevealReason(code=self.reason.data or "", note=self.note.data or "")
