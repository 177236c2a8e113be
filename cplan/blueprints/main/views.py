"""The home page and the language switch."""
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for

from cplan.i18n import LANGUAGE_SESSION_KEY
from cplan.urls import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """Show the home page."""
    return render_template("main/index.html")


@bp.post("/language/<lang>")
def set_language(lang):
    """Switch the interface language and return to the page the user was on."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    session[LANGUAGE_SESSION_KEY] = lang
    return redirect(safe_next_url(request.form.get("next")) or url_for("main.index"))
