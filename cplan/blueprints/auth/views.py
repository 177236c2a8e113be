"""Sign-in in two steps: the post's handset (CUG + one-time code), then the officer (PNO +
password).

Every failure shows one generic message, and the pages after the CUG step look the same for
registered, unknown, locked and deactivated numbers. The rules (codes, proofs, failure counts,
locks) live in ``cplan.services.otp`` and ``cplan.services.lockouts``; the session cookie holds
only random ids (the challenge, then the handset proof), and a long-lived device cookie marks a
browser that completed a sign-in, which a stranger's lock on the number spares. The code's SMS
goes in the language of the sign-in page. Asking for a new code too soon says when one may be
asked for, worked out from this browser's own requests (kept in its session, ``ASKED_KEY``),
never from the number's state, so that message too is the same whatever the number.
"""

import base64
import math
from datetime import UTC, datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from cplan import formats
from cplan.blueprints.auth.forms import (
    AuthenticatorForm,
    CodeForm,
    CugForm,
    OfficerForm,
    SetupForm,
    SignOutForm,
)
from cplan.extensions import db
from cplan.services import accounts, audit, lockouts, otp, sessions
from cplan.services.errors import DomainError
from cplan.services.permissions import Permission
from cplan.web.access import public, requires
from cplan.web.errors import explain
from cplan.web.i18n import LANGUAGE_SESSION_KEY
from cplan.web.kit import safe_next_url
from cplan.web.templating import current_language

bp = Blueprint("auth", __name__, url_prefix="/auth")

CHALLENGE_KEY = "signin_challenge"
HANDSET_KEY = "signin_handset"  # once the code step passed: the handset proof's random token
NEXT_KEY = "signin_next"
ASKED_KEY = "signin_asked"  # when this browser asked for this sign-in's codes (UTC timestamps)


def _generic_failure():
    flash(
        _(
            "That did not work. Check what you entered and try again, or start again for a new "
            "code."
        ),
        "error",
    )


def _client_ip() -> str:
    return request.remote_addr or ""


def _device_token() -> str | None:
    """The browser's device cookie (set at a completed sign-in), if any."""
    return request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])


def _keep_device_cookie(response, token: str):
    config = current_app.config
    response.set_cookie(
        config["DEVICE_COOKIE_NAME"],
        token,
        max_age=int(lockouts.DEVICE_TRUST.total_seconds()),
        path="/",
        secure=config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def _restart_sign_in(keep_next=True):
    """Forget sign-in progress but keep the language choice (and where to go afterwards)."""
    language = session.get(LANGUAGE_SESSION_KEY)
    next_url = session.get(NEXT_KEY) if keep_next else None
    session.clear()
    if language:
        session[LANGUAGE_SESSION_KEY] = language
    if next_url:
        session[NEXT_KEY] = next_url


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    """Step 1: the CUG number of the post; a one-time code goes to that handset."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = CugForm()
    if request.method == "GET" and safe_next_url(request.args.get("next")):
        session[NEXT_KEY] = request.args["next"]
    if form.validate_on_submit():
        asked_at = otp.clock()
        ticket = otp.start_challenge(
            form.cug.data, _client_ip(), language=current_language(), device_token=_device_token()
        )
        db.session.commit()
        _restart_sign_in()
        session[CHALLENGE_KEY] = ticket.public_id
        session[ASKED_KEY] = [asked_at.timestamp()]
        return redirect(url_for("auth.enter_code"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/code", methods=["GET", "POST"])
@public
def enter_code():
    """Step 1b: the one-time code from the SMS (or the officer's authenticator app)."""
    public_id = session.get(CHALLENGE_KEY)
    if not public_id:
        return redirect(url_for("auth.sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        outcome = otp.verify(public_id, form.code.data, _client_ip(), device_token=_device_token())
        db.session.commit()
        if outcome.ok:
            session.pop(CHALLENGE_KEY, None)
            session[HANDSET_KEY] = outcome.proof
            return redirect(url_for("auth.identify"))
        _generic_failure()
    elif request.method == "POST":
        _generic_failure()
    return render_template("auth/code.html", form=form, resend_form=SignOutForm())


@bp.post("/code/resend")
@public
def resend_code():
    """Send a new code for the same sign-in (the earlier code stops working)."""
    public_id = session.get(CHALLENGE_KEY)
    if public_id:
        now = otp.clock()
        asked = _asked_times()
        allowed_at = otp.next_code_at(asked, now)
        if allowed_at is not None:
            flash(_wait_message(allowed_at, now), "info")
            return redirect(url_for("auth.enter_code"))
        otp.resend(
            public_id, _client_ip(), language=current_language(), device_token=_device_token()
        )
        db.session.commit()
        session[ASKED_KEY] = [
            moment.timestamp() for moment in asked[-(otp.SENDS_PER_BURST - 1) :] + [now]
        ]
    flash(
        _("If the number is registered, a new code has been sent. Only the newest code works."),
        "info",
    )
    return redirect(url_for("auth.enter_code") if public_id else url_for("auth.sign_in"))


def _asked_times() -> list[datetime]:
    stamps = session.get(ASKED_KEY)
    if not isinstance(stamps, list):
        return []
    return [
        datetime.fromtimestamp(stamp, UTC) for stamp in stamps if isinstance(stamp, int | float)
    ]


def _wait_message(allowed_at: datetime, now: datetime) -> str:
    """When a new code may be asked for: in seconds within two minutes, else the clock time."""
    seconds = math.ceil((allowed_at - now).total_seconds())
    if seconds <= 120:
        return ngettext(
            "You can ask for a new code in %(num)d second.",
            "You can ask for a new code in %(num)d seconds.",
            seconds,
        )
    minute = datetime.fromtimestamp(
        math.ceil(allowed_at.timestamp() / 60) * 60, UTC
    )  # never too early
    return _(
        "You can ask for a new code at %(time)s.",
        time=formats.time_text(minute, current_language()),
    )


@bp.route("/officer", methods=["GET", "POST"])
@public
def identify():
    """Step 2: the officer on duty proves who they are with PNO and password."""
    proof = session.get(HANDSET_KEY)
    post = otp.handset_post(proof)
    if post is None:
        _restart_sign_in()
        return redirect(url_for("auth.sign_in"))
    form = OfficerForm()
    if form.validate_on_submit():
        outcome = otp.sign_in_officer(
            proof,
            form.pno.data,
            form.password.data,
            ip=_client_ip(),
            user_agent=request.user_agent.string,
            device_token=_device_token(),
        )
        db.session.commit()
        if outcome.principal is not None:
            return _complete_sign_in(outcome)
        _generic_failure()
        if outcome.restart:
            _restart_sign_in()
            return redirect(url_for("auth.sign_in"))
        return render_template("auth/officer.html", form=form, post=post)
    elif request.method == "POST":
        _generic_failure()
    return render_template("auth/officer.html", form=form, post=post)


def _complete_sign_in(outcome: otp.OfficerStepOutcome):
    principal = outcome.principal
    next_url = safe_next_url(session.get(NEXT_KEY))
    language = principal.officer.language or session.get(LANGUAGE_SESSION_KEY)
    session.clear()  # a fresh session on sign-in: nothing carried over (no fixation)
    if language:
        session[LANGUAGE_SESSION_KEY] = language
    login_user(principal, remember=False, fresh=True)
    return _keep_device_cookie(redirect(next_url or url_for("main.index")), outcome.device_token)


@bp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out():
    """End this session on the server and in the browser."""
    sessions.revoke(current_user.session, "signed_out")
    audit.record("auth.sign_out", actor=current_user)
    db.session.commit()
    language = session.get(LANGUAGE_SESSION_KEY)
    logout_user()
    session.clear()
    if language:
        session[LANGUAGE_SESSION_KEY] = language
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def set_up():
    """First sign-in: set a password with the one-time setup code from the administrator."""
    form = SetupForm()
    if form.validate_on_submit():
        try:
            officer = accounts.set_password_with_setup_code(
                form.pno.data, form.code.data, form.password.data, ip_address=_client_ip()
            )
        except DomainError as error:
            db.session.rollback()
            flash(explain(error), "error")
            return render_template("auth/setup.html", form=form)
        db.session.commit()
        if officer is None:
            _generic_failure()
            return render_template("auth/setup.html", form=form)
        flash(_("Your password is set. Sign in with your post's CUG number."), "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/setup.html", form=form)


@bp.route("/authenticator", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def authenticator():
    """Enrol an authenticator app, so SMS is not the only way in."""
    officer = current_user.officer
    form = AuthenticatorForm()
    otp.forget_unreadable_authenticator(current_user)
    if request.method == "GET" and not officer.totp_confirmed:
        officer.totp_secret = otp.new_totp_secret()
        db.session.commit()
    if form.validate_on_submit() and not officer.totp_confirmed:
        if otp.confirm_totp(officer, form.code.data):
            audit.record(
                "auth.authenticator_enrolled", actor=current_user, target=officer, unit=officer.unit
            )
            db.session.commit()
            flash(
                _("Your authenticator app is ready. You can use its code instead of the SMS."),
                "success",
            )
            return redirect(url_for("auth.authenticator"))
        db.session.commit()
        _generic_failure()
    qr = None
    if not officer.totp_confirmed and officer.totp_secret:
        svg = otp.qr_svg(otp.provisioning_uri(officer.totp_secret, officer))
        qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render_template(
        "auth/authenticator.html",
        form=form,
        officer=officer,
        qr=qr,
        secret=None if officer.totp_confirmed else officer.totp_secret,
        issuer=otp.totp_issuer(),
    )
