"""The phones registered for the API, on the web: an officer sees their own and ends one (a
lost phone cannot be trusted to revoke itself); the SP office sees and ends those of its
district. The rules are ``cplan.services.device_tokens``'s (a token outside the list: 404)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from cplan.blueprints.devices.forms import RevokeForm
from cplan.extensions import db
from cplan.services import device_tokens
from cplan.services.permissions import Permission
from cplan.web.access import requires

bp = Blueprint("devices", __name__, url_prefix="/devices")


@bp.get("/", endpoint="index")
@requires(Permission.SIGNED_IN)
def index():
    """List the phones with access to the API: one's own, or the district's for the SP office."""
    return render_template(
        "devices/index.html",
        devices=device_tokens.listed(current_user),
        form=RevokeForm(formdata=None),
    )


@bp.post("/<int:device_id>/revoke", endpoint="revoke")
@requires(Permission.SIGNED_IN)
def revoke(device_id):
    """End a phone's access to the API now."""
    form = RevokeForm()
    if form.validate_on_submit():
        device = device_tokens.revoke(current_user, device_id)
        db.session.commit()
        flash(_("“%(name)s” can no longer use the API.", name=device.name), "success")
    return redirect(url_for("devices.index"))
