"""Registering a phone for the API, through the same two sign-in steps as the web
(``cplan.services.otp``): the post's CUG number and the code sent to it, then the officer's PNO
and password; the result is a device token. Listing and revoking tokens.

Every failure of a step answers the same 401, whatever was wrong (as the sign-in pages show one
message); the code's SMS goes in the language of ``Accept-Language``.
"""

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from cplan.blueprints.api.schemas import (
    ChallengeAnswer,
    ChallengeRequest,
    CodeRequest,
    DeviceAnswer,
    DeviceListAnswer,
    ProofAnswer,
    RegisteredAnswer,
    RegisterRequest,
)
from cplan.extensions import db
from cplan.services import device_tokens, otp
from cplan.services.permissions import Permission
from cplan.web.access import public, requires
from cplan.web.errors import problem
from cplan.web.templating import current_language

bp = Blueprint(
    "api_devices",
    __name__,
    url_prefix="/api/v1/devices",
    description="Register a phone through the sign-in steps; list and revoke device tokens.",
)


def _failed(restart: bool = False):
    db.session.commit()  # the failure counters and the audit trail keep the failed attempt
    return problem(
        401,
        _(
            "That did not work. Check what you entered and try again, or start again for a new "
            "code."
        ),
        restart=restart,
    )


@bp.post("/challenges", endpoint="start")
@bp.arguments(ChallengeRequest)
@bp.response(202, ChallengeAnswer)
@bp.doc(security=[])
@public
def start(data):
    """Step 1: send a one-time code to the post's CUG handset.

    The answer is the same for registered, unknown and locked numbers.
    """
    ticket = otp.start_challenge(
        data["cug"], request.remote_addr or "", language=current_language()
    )
    db.session.commit()
    return {"challenge": ticket.public_id, "expires_in": int(otp.CODE_LIFETIME.total_seconds())}


@bp.post("/proofs", endpoint="verify")
@bp.arguments(CodeRequest)
@bp.response(200, ProofAnswer)
@bp.alt_response(401, response="DEFAULT_ERROR", description="The code was not accepted")
@bp.doc(security=[])
@public
def verify(data):
    """Step 1b: the code from the SMS (or the officer's authenticator app) for the challenge."""
    outcome = otp.verify(data["challenge"], data["code"], request.remote_addr or "")
    if not outcome.ok:
        return _failed()
    db.session.commit()
    return {"proof": outcome.proof}


@bp.post("", endpoint="register")
@bp.arguments(RegisterRequest)
@bp.response(201, RegisteredAnswer)
@bp.alt_response(401, response="DEFAULT_ERROR", description="PNO or password not accepted")
@bp.doc(security=[])
@public
def register(data):
    """Step 2: the officer's PNO and password; a device token bound to the officer and post."""
    name = device_tokens.clean_name(data["name"])  # before the proof is used up
    outcome = otp.sign_in_officer(
        data["proof"],
        data["pno"],
        data["password"],
        ip=request.remote_addr or "",
        user_agent=request.user_agent.string,
        device_name=name,
    )
    if outcome.issued is None:
        return _failed(outcome.restart)
    db.session.commit()
    return {"token": outcome.issued.token, "device": outcome.issued.device}


@bp.get("", endpoint="index")
@bp.response(200, DeviceListAnswer)
@requires(Permission.SIGNED_IN)
def index():
    """The open device tokens of the officer (the SP office: of every post in its district)."""
    return {"items": device_tokens.listed(current_user)}


@bp.post("/<int:device_id>/revoke", endpoint="revoke")
@bp.response(200, DeviceAnswer)
@requires(Permission.SIGNED_IN)
def revoke(device_id):
    """End a device token now (one's own, or, for the SP office, one in its district)."""
    device = device_tokens.revoke(current_user, device_id)
    db.session.commit()
    return device
