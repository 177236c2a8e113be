"""The home page and the language switch."""

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from cplan.extensions import db
from cplan.services.permissions import Permission
from cplan.web.access import public, requires
from cplan.web.i18n import LANGUAGE_SESSION_KEY
from cplan.web.kit import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
@requires(Permission.SIGNED_IN)
def index():
    """Show the home page."""
    return render_template("main/index.html")


@bp.post("/language/<lang>")
@public
def set_language(lang):
    """Switch the interface language and return to the page the user was on."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session[LANGUAGE_SESSION_KEY] = lang
    if current_user.is_authenticated:
        # Remembered per officer, so the choice follows them to any handset.
        current_user.officer.language = lang
        db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or url_for("main.index"))
