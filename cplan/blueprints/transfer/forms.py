"""Forms of the roster file pages: upload a file to check or import, and export a group list.

The commit form carries the checked file's SHA-256 in a hidden field and asks for the file
again: nothing is kept on the server between the two steps.
"""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from cplan.pipelines.roster_export import MAX_NOTE_LENGTH, MIN_NOTE_LENGTH, REASONS
from cplan.web.forms import FileCheckForm, Form, SameFileForm
from cplan.web.kit import choices, coerce_id


class CheckForm(FileCheckForm):
    """Step 1: upload a file for the dry run."""

    HINT = _l("At most 2 MB and 5,000 rows. Nothing is imported in this step.")


class CommitForm(SameFileForm):
    """Step 2: the same file again, to import every row or none."""

    submit = SubmitField(_l("Import the contacts"))


class ExportForm(Form):
    """A station's or one place's active contacts as a file, with the reason."""

    station = SelectField(_l("Police station"), coerce=coerce_id, validators=[DataRequired()])
    place_code = StringField(
        _l("Only this place (LGD code)"),
        validators=[Optional(), Length(max=16)],
        description=_l("Leave empty for the whole station."),
    )
    file_format = RadioField(
        _l("File"),
        default="vcf",
        validators=[DataRequired()],
        choices=choices(
            [
                ("vcf", _l("Phone contacts (vCard)")),
                ("xlsx", _l("Excel (XLSX)")),
                ("csv", _l("CSV")),
            ]
        ),
    )
    reason = SelectField(_l("Reason"), validators=[DataRequired()])
    note = StringField(
        _l("Why you need the list"),
        validators=[DataRequired(), Length(min=MIN_NOTE_LENGTH, max=MAX_NOTE_LENGTH)],
        description=_l("Recorded in the audit trail with the number of contacts exported."),
    )
    submit = SubmitField(_l("Download"))

    def __init__(self, station_choices, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.station.choices = choices(station_choices)
        self.reason.choices = choices(REASONS.items(), _l("Choose a reason"))
