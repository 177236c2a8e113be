"""Sign-in in two steps: the post's handset (CUG + one-time code), then the officer (PNO + password).

Every failure shows one generic message, and the pages after the CUG step look the same for
registered, unknown, locked and deactivated numbers. The code's SMS goes in the language of the
sign-in page. Asking for a new code too soon says when one may be asked for, worked out from
this browser's own requests (kept in its session, ``ASKED_KEY``), never from the number's
state, so that message too is the same whatever the number.
"""
import base64
import math
from datetime import UTC, datetime, timedelta

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
from cplan.access import public, requires
from cplan.blueprints.auth.forms import (
    AuthenticatorForm,
    CodeForm,
    CugForm,
    OfficerForm,
    SetupForm,
    SignOutForm,
)
from cplan.extensions import db
from cplan.i18n import LANGUAGE_SESSION_KEY
from cplan.models.accounts import Officer, Post
from cplan.models.base import utcnow
from cplan.services import accounts, audit, otp, sessions
from cplan.services.errors import DomainError
from cplan.services.permissions import Permission
from cplan.templating import current_language
from cplan.urls import safe_next_url

bp = Blueprint("auth", __name__, url_prefix="/auth")

CHALLENGE_KEY = "signin_challenge"
HANDSET_KEY = "signin_handset"  # set once the code step passed: post id, app officer, time
NEXT_KEY = "signin_next"
ASKED_KEY = "signin_asked"  # when this browser asked for this sign-in's codes (UTC timestamps)
HANDSET_STEP_LIFETIME = timedelta(minutes=5)


def _generic_failure():
    flash(_("That did not work. Check what you entered and try again, or start again for a new code."), "error")


def _client_ip() -> str:
    return request.remote_addr or ""


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
        ticket = otp.start_challenge(form.cug.data, _client_ip(), language=current_language())
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
        outcome = otp.verify(public_id, form.code.data, _client_ip())
        db.session.commit()
        if outcome.ok:
            session.pop(CHALLENGE_KEY, None)
            session[HANDSET_KEY] = {
                "post": outcome.post.id,
                "officer": outcome.totp_officer.id if outcome.totp_officer else None,
                "at": utcnow().timestamp(),
            }
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
        otp.resend(public_id, _client_ip(), language=current_language())
        db.session.commit()
        session[ASKED_KEY] = [moment.timestamp() for moment in asked[-(otp.SENDS_PER_BURST - 1):] + [now]]
    flash(_("If the number is registered, a new code has been sent. Only the newest code works."), "info")
    return redirect(url_for("auth.enter_code") if public_id else url_for("auth.sign_in"))


def _asked_times() -> list[datetime]:
    stamps = session.get(ASKED_KEY)
    if not isinstance(stamps, list):
        return []
    return [datetime.fromtimestamp(stamp, UTC) for stamp in stamps
            if isinstance(stamp, int | float)]


def _wait_message(allowed_at: datetime, now: datetime) -> str:
    """When a new code may be asked for: in seconds within two minutes, else the clock time."""
    seconds = math.ceil((allowed_at - now).total_seconds())
    if seconds <= 120:
        return ngettext("You can ask for a new code in %(num)d second.",
                        "You can ask for a new code in %(num)d seconds.", seconds)
    minute = datetime.fromtimestamp(math.ceil(allowed_at.timestamp() / 60) * 60, UTC)  # never too early
    return _("You can ask for a new code at %(time)s.", time=formats.time_text(minute, current_language()))


def _handset_post() -> tuple[Post | None, int | None]:
    state = session.get(HANDSET_KEY)
    if not isinstance(state, dict):
        return None, None
    if utcnow().timestamp() - float(state.get("at", 0)) > HANDSET_STEP_LIFETIME.total_seconds():
        return None, None
    post = db.session.get(Post, state.get("post"))
    if post is None or not post.active:
        return None, None
    return post, state.get("officer")


@bp.route("/officer", methods=["GET", "POST"])
@public
def identify():
    """Step 2: the officer on duty proves who they are with PNO and password."""
    post, app_officer_id = _handset_post()
    if post is None:
        _restart_sign_in()
        return redirect(url_for("auth.sign_in"))
    form = OfficerForm()
    if form.validate_on_submit():
        # Counted as a failure before the password is checked, so parallel guesses queue on the
        # number and cannot all slip past the lock; a locked number is not checked at all.
        failures = otp.claim_attempt(post.cug_number)
        officer = None
        if failures is not None:
            officer = accounts.authenticate_officer(post, form.pno.data, form.password.data)
            if officer is not None and app_officer_id is not None and officer.id != app_officer_id:
                officer = None  # the authenticator app belongs to someone else
        if officer is None:
            if failures is not None:
                otp.fail_attempt(post.cug_number, failures, _client_ip(), reason="officer_password")
            audit.record("auth.sign_in", outcome="failure", post=post, unit=post.unit,
                         ip_address=_client_ip(), detail={"step": "officer"})
            db.session.commit()
            if failures is None or otp.is_locked(post.cug_number):
                _restart_sign_in()
                _generic_failure()
                return redirect(url_for("auth.sign_in"))
            _generic_failure()
            return render_template("auth/officer.html", form=form, post=post)
        return _complete_sign_in(officer, post)  # resets the number's failures
    elif request.method == "POST":
        _generic_failure()
    return render_template("auth/officer.html", form=form, post=post)


def _complete_sign_in(officer: Officer, post: Post):
    principal = sessions.start(officer, post, _client_ip(), request.user_agent.string)
    otp.reset_failures(post.cug_number)
    audit.record("auth.sign_in", officer=officer, post=post, unit=post.unit, ip_address=_client_ip())
    db.session.commit()
    next_url = safe_next_url(session.get(NEXT_KEY))
    language = officer.language or session.get(LANGUAGE_SESSION_KEY)
    session.clear()  # a fresh session on sign-in: nothing carried over (no fixation)
    if language:
        session[LANGUAGE_SESSION_KEY] = language
    login_user(principal, remember=False, fresh=True)
    return redirect(next_url or url_for("main.index"))


@bp.post("/sign-out")
@requires(Permission.SIGNED_IN)
def sign_out():
    """End this session on the server and in the browser."""
    sessions.revoke(current_user.session, "signed_out")
    audit.record("auth.sign_out")
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
            officer = accounts.set_password_with_setup_code(form.pno.data, form.code.data, form.password.data)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
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
    otp.forget_unreadable_authenticator(officer)
    if request.method == "GET" and not officer.totp_confirmed:
        officer.totp_secret = otp.new_totp_secret()
        db.session.commit()
    if form.validate_on_submit() and not officer.totp_confirmed:
        if otp.confirm_totp(officer, form.code.data):
            audit.record("auth.authenticator_enrolled", target=officer, unit=officer.unit)
            db.session.commit()
            flash(_("Your authenticator app is ready. You can use its code instead of the SMS."), "success")
            return redirect(url_for("auth.authenticator"))
        db.session.commit()
        _generic_failure()
    qr = None
    if not officer.totp_confirmed and officer.totp_secret:
        svg = otp.qr_svg(otp.provisioning_uri(officer.totp_secret, officer))
        qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render_template("auth/authenticator.html", form=form, officer=officer, qr=qr,
                           secret=None if officer.totp_confirmed else officer.totp_secret,
                           issuer=current_app.config.get("TOTP_ISSUER", "C-Plan UP Police"))
