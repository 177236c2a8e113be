"""Forms of the election pages: a new election with its phases, a file of phases, a sensitive
place, a contact's election mark. They collect what was typed; the services check it."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from cplan.models.elections import ElectionAuthority, ElectionKind
from cplan.services import sensitive_places
from cplan.services.elections import (
    AUTHORITY_LABELS,
    KIND_LABELS,
    LEVEL_LABELS,
    MAX_NAME_LENGTH,
    REASON_LABELS,
    ROLE_LABELS,
)
from cplan.web.forms import FileCheckForm, FilterForm, Form, SameFileForm
from cplan.web.kit import choices

PHASE_ROWS = 4


class PhaseEntry(FilterForm):
    """One phase of a new election: its poll date and the districts that vote in it."""

    poll_date = DateField(_l("Poll date"), validators=[Optional()])
    districts = SelectMultipleField(
        _l("Districts"),
        coerce=int,
        choices=[],
        description=_l("Hold Ctrl (or press long on a phone) to choose several."),
    )


class ElectionForm(Form):
    """A new election: kind, who conducts it, names, when notified, and its phases."""

    kind = SelectField(
        _l("Kind of election"),
        choices=choices(((k.value, label) for k, label in KIND_LABELS.items())),
        validators=[InputRequired()],
    )
    authority = SelectField(
        _l("Conducted by"),
        choices=choices(((a.value, label) for a, label in AUTHORITY_LABELS.items())),
        validators=[InputRequired()],
    )
    name_en = StringField(
        _l("Name in English"),
        validators=[InputRequired(_l("Give the election a name.")), Length(max=MAX_NAME_LENGTH)],
        description=_l("For example: UP panchayat elections 2026."),
        render_kw={"maxlength": MAX_NAME_LENGTH, "lang": "en"},
    )
    name_hi = StringField(
        _l("Name in Hindi"),
        validators=[Optional(), Length(max=MAX_NAME_LENGTH)],
        render_kw={"maxlength": MAX_NAME_LENGTH, "lang": "hi"},
    )
    notified_on = DateField(_l("Notified on"), validators=[Optional()])
    phases = FieldList(FormField(PhaseEntry), min_entries=PHASE_ROWS, max_entries=9)
    submit = SubmitField(_l("Create the election"))

    def kind_value(self) -> ElectionKind:
        return ElectionKind(self.kind.data)

    def authority_value(self) -> ElectionAuthority:
        return ElectionAuthority(self.authority.data)


class PhasesFileForm(FileCheckForm):
    """Step 1 of a file of phases: upload it for the dry run."""

    HINT = _l("Columns phase, poll_date, district_lgd_code. Nothing is changed in this step.")


class PhasesCommitForm(SameFileForm):
    """Step 2: the same file again, to add every row or none."""

    submit = SubmitField(_l("Add the phases"))


class PlaceFinderForm(FilterForm):
    """Find a place of the district to grade (a GET form)."""

    q = SearchField(
        _l("Name or LGD code"),
        validators=[Length(max=100)],
        description=_l("In Hindi or English, or a code such as 119300."),
    )


class GradeForm(Form):
    """A place's grade for an election: level, reasons from the fixed list, note, reference,
    and optionally one polling-booth location in the place."""

    level = RadioField(
        _l("Level"),
        choices=choices((level.value, label) for level, label in reversed(LEVEL_LABELS.items())),
        validators=[InputRequired(_l("Choose the level."))],
    )
    reasons = SelectMultipleField(
        _l("Reasons"),
        choices=choices((reason.value, label) for reason, label in REASON_LABELS.items()),
        validators=[InputRequired(_l("Choose at least one reason."))],
        description=_l("Hold Ctrl (or press long on a phone) to choose several."),
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=sensitive_places.MAX_NOTE_LENGTH)],
        description=_l("What the station should know. No criminal records here."),
    )
    reference = StringField(
        _l("Reference"),
        validators=[Optional(), Length(max=sensitive_places.MAX_REFERENCE_LENGTH)],
        description=_l("A file or letter number, if any."),
    )
    booth = StringField(
        _l("Polling booth location (optional)"),
        validators=[Optional(), Length(max=sensitive_places.MAX_BOOTH_LENGTH)],
        description=_l("Leave empty to grade the whole place."),
    )
    submit = SubmitField(_l("Save the grade"))


class ConfirmForm(Form):
    """A one-button form (clear a grade, end a mark)."""

    submit = SubmitField(_l("Confirm"))


class GradesFileForm(FileCheckForm):
    """Step 1 of a file of sensitive places: upload it for the dry run."""

    HINT = _l(
        "Columns lgd_code (or place_name and police_station), level, reasons, note, "
        "reference, booth. Nothing is changed in this step."
    )


class GradesCommitForm(SameFileForm):
    """Step 2: the same file again, to grade every row or none."""

    submit = SubmitField(_l("Grade the places"))


class MarkForm(Form):
    """A contact's part in an election (candidate, agent...)."""

    role = SelectField(
        _l("Part in the election"),
        choices=choices((role.value, label) for role, label in ROLE_LABELS.items()),
        validators=[InputRequired()],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=400)])
    submit = SubmitField(_l("Mark the contact"))
