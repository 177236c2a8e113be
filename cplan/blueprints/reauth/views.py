"""Confirm it is you (``/auth/confirm``): the signed-in officer types their password again.

``cplan.web.access.fresh_sign_in`` sends an officer here before a sensitive action when their
password was last typed in this session more than ``FRESH_SIGN_IN_MINUTES`` ago, with ``next``
(where to go back: a path on this site) and ``repeat=1`` when the action was a form that must
be sent again. A blueprint of its own, next to the sign-in pages, so the two change apart.
Wrong passwords are counted on the session; the last one allowed signs the officer out
(``cplan.services.reauth``).
"""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from cplan.blueprints.reauth.forms import ConfirmPasswordForm
from cplan.extensions import db
from cplan.services import reauth
from cplan.services.permissions import Permission
from cplan.web.access import requires
from cplan.web.i18n import LANGUAGE_SESSION_KEY
from cplan.web.kit import safe_next_url

bp = Blueprint("reauth", __name__, url_prefix="/auth")


@bp.route("/confirm", methods=["GET", "POST"], endpoint="confirm")
@requires(Permission.SIGNED_IN)
def confirm():
    """Ask for the signed-in officer's password before a sensitive action, then go back."""
    next_url = safe_next_url(request.args.get("next")) or url_for("main.index")
    repeat = request.args.get("repeat") == "1"
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        outcome = reauth.confirm_password(
            current_user, form.password.data, request.remote_addr or ""
        )
        db.session.commit()
        if outcome == reauth.Outcome.SIGNED_OUT:
            language = session.get(LANGUAGE_SESSION_KEY)
            logout_user()
            session.clear()
            if language:
                session[LANGUAGE_SESSION_KEY] = language
            flash(
                _(
                    "You have been signed out after too many wrong passwords. Sign in again with "
                    "your post's CUG number."
                ),
                "error",
            )
            return redirect(url_for("auth.sign_in"))
        if outcome == reauth.Outcome.CONFIRMED:
            if repeat:
                flash(_("Thank you. Nothing has been changed yet: please do it again."), "info")
            return redirect(next_url)
        form.password.errors.append(
            _(
                "That is not your password. Attempts left before you are signed out: %(left)s.",
                left=reauth.failures_left(current_user),
            )
        )
    return render_template(
        "reauth/confirm.html",
        form=form,
        next_url=next_url,
        repeat=repeat,
        minutes=int(reauth.window().total_seconds() // 60),
        action=url_for("reauth.confirm", next=next_url, **({"repeat": "1"} if repeat else {})),
    )
