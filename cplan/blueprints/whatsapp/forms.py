"""Forms of the WhatsApp group pages. They collect what was typed or uploaded;
``cplan.services.whatsapp_groups`` and ``cplan.pipelines.whatsapp_members`` check it."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from cplan.web.forms import Form
from cplan.web.kit import coerce_id


class GroupForm(Form):
    """A group's name as WhatsApp shows it, its admin officer and its purpose."""

    name = StringField(
        _l("Group name (as on WhatsApp)"),
        validators=[
            InputRequired(_l("Give the group its name as it shows on WhatsApp.")),
            Length(max=120),
        ],
    )
    admin_post = SelectField(
        _l("Admin officer"),
        coerce=coerce_id,
        validators=[InputRequired(_l("Choose the admin officer from the station's posts."))],
        description=_l("The post of the station whose phone runs the group."),
    )
    purpose = TextAreaField(
        _l("Purpose"),
        validators=[Optional(), Length(max=300)],
        description=_l("For example: village heads and teachers of the eastern villages."),
    )
    submit = SubmitField(_l("Save the group"))


class ReconcileForm(Form):
    """What the admin's phone gives: a file, or numbers pasted."""

    file = FileField(
        _l("Chat export (.txt), contacts (.vcf) or list (.csv)"),
        description=_l(
            'In the group: More > Export chat > "Without media". At most 4 MB and 5,000 entries.'
        ),
    )
    paste = TextAreaField(
        _l("Or paste the members' numbers"),
        validators=[Optional()],
        description=_l("One member a line: a number, or a name and a number."),
    )
    submit = SubmitField(_l("Reconcile with the roster"))


class ButtonForm(Form):
    """A one-button form (retire a group): only its CSRF token."""

    submit = SubmitField(_l("Retire the group"))
