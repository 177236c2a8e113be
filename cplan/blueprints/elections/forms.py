"""Forms of the election pages: a new election with its phases, a file of phases, a sensitive
place, a contact's election mark. They collect what was typed; the services check it."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, Optional

from cplan.models.elections import ElectionAuthority, ElectionKind
from cplan.services.elections import AUTHORITY_LABELS, KIND_LABELS, MAX_NAME_LENGTH
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
