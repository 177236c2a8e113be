"""One-time codes for the handset step of sign-in, and officers' authenticator apps.

The only module that imports ``pyotp``. The rules (issue "Sign-in with CUG number and OTP"):

* A code is 6 ASCII digits, valid for 5 minutes, accepted once, and only for the challenge (and
  so the CUG number) it was issued for. Only an HMAC of it is stored; it is never logged.
* Starting or resending issues a new code and makes every earlier code of that number useless.
* At most 3 codes go to one number in a burst, at least 60 s apart; the count starts again after
  15 minutes without a code, so no 15-minute span ever holds more than 3. A browser trusted for
  the post (below) has the same limits of its own, so strangers cannot use them up for it.
* Wrong codes are counted per number and client (5 lock that client out of the number) and
  per number (50 lock it for everyone but the browsers that signed in to its post before), 15
  minutes at first, escalating to 24 hours; the post's handset gets an SMS when its number is
  locked. ``cplan.services.lockouts`` has the whole policy. Neither a resend nor a new start
  clears failures; a right code clears the client's and the number's.
* A right code gives the browser a *handset proof* (``handset_proofs``): a random token in its
  session cookie, consumed by exactly one officer sign-in and good for 3 password attempts in
  5 minutes. Wrong passwords are counted per officer and per post (``sign_in_officer``); another
  officer's success resets neither, so one code never buys more than 3 guesses and a shared
  handset never buys endless ones.
* Unknown, deactivated, locked and limited numbers get a challenge and a ticket exactly like a
  registered one, but no SMS; counters exist for every well-formed number, so nothing the caller
  sees reveals whether a number is registered.
* An officer holding the post may answer with their authenticator app instead (TOTP, one step of
  clock drift either way, each step accepted once).

Every decision that two requests could race for is one conditional UPDATE whose row count says
who won, so it holds on SQLite and PostgreSQL alike. Rows are always taken in one order (the
proof, then the counters, then the audit chain), so two requests never wait on each other in
opposite order. Services flush; the view commits.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cplan import formats
from cplan.extensions import db
from cplan.models.accounts import (
    CugThrottle,
    HandsetProof,
    Officer,
    OtpChallenge,
    Post,
    PostAssignment,
    TrustedDevice,
)
from cplan.models.base import utcnow
from cplan.services import accounts, audit, device_tokens, lockouts, phone, sessions, sms
from cplan.services.principal import Principal

CODE_DIGITS = 6
# The SMS text promises 5 minutes: change both together (and re-register the DLT template).
CODE_LIFETIME = timedelta(minutes=5)
SENDS_PER_BURST = 3
QUIET_PERIOD = timedelta(minutes=15)
MIN_SEND_INTERVAL = timedelta(seconds=60)
# The officer step must follow the code step within this time, in at most this many attempts.
PROOF_LIFETIME = timedelta(minutes=5)
PROOF_ATTEMPTS = 3
TOTP_ISSUER = "C-Plan UP Police"
TOTP_VALID_WINDOW = 1

# ASCII only: ``\d`` and ``int()`` would take Devanagari and full-width digits.
_CODE = re.compile(r"[0-9]{6}")
_PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
_E164_INDIA = re.compile(r"\+91[6-9][0-9]{9}")


# Tests move time by passing ``now=`` or by replacing this function.
clock = utcnow


@dataclass(frozen=True)
class ChallengeTicket:
    """What the browser keeps between the CUG step and the code step: a random id, nothing else."""

    public_id: str


@dataclass(frozen=True)
class VerifyOutcome:
    """The code step's result; ``totp_officer`` is set when an authenticator app answered."""

    ok: bool
    post: Post | None = None
    totp_officer: Officer | None = None
    # The handset proof's token, for the browser's session cookie (``sign_in_officer``).
    proof: str | None = None


_FAILED = VerifyOutcome(ok=False)


@dataclass(frozen=True)
class OfficerStepOutcome:
    """The officer step's result: a signed-in principal, or a failure (``restart``: the handset
    step must be passed again). ``device_token`` is the browser's device cookie to keep."""

    principal: Principal | None = None
    restart: bool = False
    device_token: str | None = None
    # A phone registered for the API (``device_name`` given): its new bearer token.
    issued: device_tokens.Issued | None = None


@dataclass(frozen=True)
class _Client:
    """Who is asking, for the failure counters (the ``cug-client`` key) and, when the browser
    is trusted for the number's post, its device: strangers' number-wide lock and their use of
    the number's send limits then spare it."""

    key: str
    device: TrustedDevice | None

    @property
    def trusted(self) -> bool:
        return self.device is not None


def _client(cug: str, post_id: int | None, ip: str | None, device_token, now: datetime) -> _Client:
    device = lockouts.trusted_device(device_token, post_id, now)
    who = lockouts.device_client(device) if device is not None else lockouts.address_client(ip)
    return _Client(lockouts.client_key(cug, who), device)


def _locked_for(cug: str, client: _Client, now: datetime) -> bool:
    return lockouts.is_locked(client.key, now) or (
        not client.trusted and lockouts.is_locked(lockouts.number_key(cug), now)
    )


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock()


# ---- the sign-in challenge ---------------------------------------------------------------------


def start_challenge(
    cug_text,
    ip: str | None = None,
    *,
    language: str = "en",
    device_token=None,
    now: datetime | None = None,
) -> ChallengeTicket:
    """Open a challenge for the typed number and send a code if, and only if, it may get one.

    ``device_token`` is the browser's device cookie: a browser trusted for the number's post
    still gets a code while strangers' failures have locked the number.
    """
    now = _now(now)
    challenge = OtpChallenge(
        public_id=secrets.token_urlsafe(32),
        cug_number="",
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    try:
        cug = phone.normalise_mobile(cug_text) if isinstance(cug_text, str) else None
    except phone.InvalidMobile:
        cug = None
    if cug is not None:
        challenge.cug_number = cug
        challenge.post = _active_post_with_cug(cug)
    db.session.add(challenge)
    db.session.flush()
    _issue_code(challenge, ip, device_token, now, language)
    return ChallengeTicket(challenge.public_id)


def resend(
    public_id,
    ip: str | None = None,
    *,
    language: str = "en",
    device_token=None,
    now: datetime | None = None,
) -> ChallengeTicket:
    """A new code for the same challenge, under the same limits; the earlier code stops working."""
    now = _now(now)
    challenge = _find_challenge(public_id)
    if challenge is None:
        _audit_suppressed("", "unknown_challenge", ip)
        return ChallengeTicket(public_id if isinstance(public_id, str) else "")
    _issue_code(challenge, ip, device_token, now, language)
    return ChallengeTicket(challenge.public_id)


def verify(
    public_id, code_text, ip: str | None = None, *, device_token=None, now: datetime | None = None
) -> VerifyOutcome:
    """Check the code typed for challenge ``public_id``; never raises on bad input.

    A right code returns the post and a handset proof for the officer step (``proof``).
    """
    now = _now(now)
    challenge = _find_challenge(public_id)
    if challenge is None or not challenge.cug_number:
        # No number to count a failure against: such a challenge never had a code.
        _audit_failed(challenge.cug_number if challenge else "", "unknown_challenge", ip)
        return _FAILED
    cug = challenge.cug_number
    client = _client(cug, challenge.post_id, ip, device_token, now)
    number = lockouts.number_key(cug)
    # Counted before checking, so parallel guesses queue and cannot all slip past a lock; a
    # locked client (or, for strangers, a locked number) is not checked at all, so a lock never
    # tells whether a guess was right.
    failures = lockouts.claim(client.key, now)
    number_failures = None
    if failures is not None:
        number_failures = lockouts.claim(number, now, honour_lock=not client.trusted)
        if number_failures is None:
            lockouts.release(client.key)
    if failures is None or number_failures is None:
        _audit_failed(cug, "locked", ip)
        return _FAILED

    code = code_text if isinstance(code_text, str) and _CODE.fullmatch(code_text) else None
    post = _post_still_holding(challenge)
    if code is not None and post is not None:
        officer = None
        sms_code_hash = _code_hash(challenge, code) if challenge.code_hash is not None else None
        passed = sms_code_hash is not None and _consume(challenge, now, code_hash=sms_code_hash)
        if not passed:
            officer = _consume_with_authenticator(challenge, post, code, now)
            passed = officer is not None
        if passed:
            # The handset is proven: the failures before it were the owner's own typing.
            lockouts.reset(client.key)
            lockouts.reset(number)
            return _verified(challenge, post, officer, ip, now)

    client_lock = lockouts.lock_at_limit(client.key, failures, lockouts.CLIENT_CODES, now)
    if client_lock is not None:
        _audit_lock("auth.client_locked", cug, client_lock, ip, post=post, reason="otp")
    number_lock = lockouts.lock_at_limit(number, number_failures, lockouts.NUMBER_CODES, now)
    if number_lock is not None:
        _number_locked(cug, number_lock, ip)
    # Audit last: every path takes the counters' rows before the audit chain's lock.
    _audit_failed(cug, "malformed_code" if code is None else "wrong_code", ip, post=post)
    return _FAILED


def _verified(
    challenge: OtpChallenge, post: Post, officer: Officer | None, ip: str | None, now: datetime
) -> VerifyOutcome:
    token = secrets.token_urlsafe(32)
    db.session.add(
        HandsetProof(
            token_hash=_proof_hash(token),
            challenge_id=challenge.id,
            post_id=post.id,
            cug_number=challenge.cug_number,
            totp_officer_id=officer.id if officer else None,
            created_at=now,
            expires_at=now + PROOF_LIFETIME,
            attempts=0,
        )
    )
    db.session.flush()
    db.session.expire(challenge)
    audit.record(
        "auth.otp_verified",
        officer=officer,
        post=post,
        unit=post.unit,
        ip_address=ip,
        detail={
            "cug": phone.log_safe(challenge.cug_number),
            "method": "authenticator" if officer else "sms",
        },
    )
    return VerifyOutcome(ok=True, post=post, totp_officer=officer, proof=token)


def next_code_at(asked: list[datetime], now: datetime | None = None) -> datetime | None:
    """When someone who asked for codes at ``asked`` may ask again, by the limits above (60 s
    apart, 3 in a burst, a new burst after 15 quiet minutes); None if they may ask now.

    Fed only with the asker's own requests (the view keeps them in the browser's session), so
    the answer is the same for registered, unknown, locked and retired numbers: it tells
    nothing the asker did not already know. The number's own counters still decide whether a
    code is really sent.
    """
    now = _now(now)
    in_burst, last = 0, None
    for moment in sorted(asked):
        in_burst = 1 if last is None or moment - last >= QUIET_PERIOD else in_burst + 1
        last = moment
    if last is None:
        return None
    allowed = last + (QUIET_PERIOD if in_burst >= SENDS_PER_BURST else MIN_SEND_INTERVAL)
    return allowed if allowed > now else None


def _issue_code(
    challenge: OtpChallenge, ip: str | None, device_token, now: datetime, language: str
) -> None:
    """Send a fresh code for ``challenge`` if the number's locks and limits allow it."""
    cug = challenge.cug_number
    if not cug:
        _audit_suppressed("", "malformed_number", ip)
        return
    _ensure_throttle(cug)
    # Locks and limits come before the registration check, so they behave the same for all.
    client = _client(cug, challenge.post_id, ip, device_token, now)
    if _locked_for(cug, client, now):
        _audit_suppressed(cug, "locked", ip)
        return
    if not _take_send_slot(cug, now, client.device):
        _audit_suppressed(cug, "limited", ip)
        return
    post = _post_still_holding(challenge)
    code = _new_code() if post is not None else None
    renewed = db.session.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.id == challenge.id,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.superseded_at.is_(None),
        )
        .values(
            code_hash=_code_hash(challenge, code) if code else None,
            expires_at=now + CODE_LIFETIME,
            sent_at=now if code else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(challenge)
    if renewed != 1:
        # Used or replaced meanwhile (another tab, another request): no new code for it.
        _audit_suppressed(cug, "stale_challenge", ip)
        return
    # Only the newest code of a number works. Done only when a code is really issued, so a
    # stranger hammering a number past its limit cannot keep cancelling its owner's code.
    db.session.execute(
        update(OtpChallenge)
        .where(
            OtpChallenge.cug_number == cug,
            OtpChallenge.id != challenge.id,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    if post is None:
        _audit_suppressed(cug, "not_registered", ip)
        return
    post_id = post.id
    device_id = client.device.id if client.device is not None else None

    def report(error: sms.SmsError | None) -> None:
        # Here, or after the response in a transaction of its own (sms.send_template).
        sent_for = db.session.get(Post, post_id)
        detail = {"cug": phone.log_safe(cug)}
        if error is not None:
            current_app.logger.warning("otp: SMS to %s failed: %s", phone.log_safe(cug), error)
            detail["error"] = audit.redact_mobiles(str(error))
            _give_back_send_slot(cug, device_id, now)
        audit.record(
            "auth.otp_sent",
            outcome="failure" if error else "success",
            post=sent_for,
            unit=sent_for.unit,
            ip_address=ip,
            detail=detail,
        )

    sms.send_template(
        cug, "otp", code, language=language if language in sms.LANGUAGES else "en", report=report
    )


def _new_code() -> str:
    # A random secret's HOTP value is a uniformly distributed 6-digit string.
    return pyotp.HOTP(pyotp.random_base32(), digits=CODE_DIGITS).at(0)


def _code_hash(challenge: OtpChallenge, code: str) -> str:
    """HMAC-SHA256 under the app's secret key, bound to this challenge and this number."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"cplan-otp|{challenge.public_id}|{challenge.cug_number}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _consume(
    challenge: OtpChallenge,
    now: datetime,
    *,
    code_hash: str | None = None,
    totp_officer: Officer | None = None,
) -> bool:
    """Mark the challenge used if it still is open; True for exactly one caller."""
    conditions = [
        OtpChallenge.id == challenge.id,
        OtpChallenge.consumed_at.is_(None),
        OtpChallenge.superseded_at.is_(None),
        OtpChallenge.expires_at > now,
    ]
    if code_hash is not None:
        conditions.append(OtpChallenge.code_hash == code_hash)
    values = {"consumed_at": now}
    if totp_officer is not None:
        values["totp_officer_id"] = totp_officer.id
    result = db.session.execute(
        update(OtpChallenge)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _consume_with_authenticator(
    challenge: OtpChallenge, post: Post, code: str, now: datetime
) -> Officer | None:
    """The officer holding ``post`` whose authenticator shows ``code`` now, if that step is
    unused."""
    holders = db.session.scalars(
        select(Officer)
        .where(
            Officer.id.in_(
                select(PostAssignment.officer_id).where(
                    PostAssignment.post_id == post.id, PostAssignment.ended_at.is_(None)
                )
            ),
            Officer.active.is_(True),
            Officer.totp_confirmed.is_(True),
            Officer.totp_secret.is_not(None),
        )
        .order_by(Officer.id)
    ).all()
    for officer in holders:
        if officer.totp_secret is None:  # sealed under another secret key: set up again
            continue
        step = _matching_step(officer.totp_secret, code, now)
        if step is None or not _claim_step(officer, step):
            continue
        # The step is spent even if the challenge was used meanwhile: a code never counts twice.
        return officer if _consume(challenge, now, totp_officer=officer) else None
    return None


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(officer: Officer, step: int, *, confirm: bool = False) -> bool:
    """Record ``step`` as the officer's last accepted one unless it (or a later one) was used."""
    values = {"totp_last_step": step}
    if confirm:
        values["totp_confirmed"] = True
    claimed = (
        db.session.execute(
            update(Officer)
            .where(Officer.id == officer.id, Officer.totp_last_step < step)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    db.session.expire(officer, list(values))
    return claimed


# ---- throttles and locks -----------------------------------------------------------------------


def _ensure_throttle(cug: str) -> None:
    """Create the number's counters if missing; two first requests racing both succeed."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"no upsert for the {dialect} database")
    db.session.execute(
        insert(CugThrottle)
        .values(cug_number=cug, sends_in_window=0, failures=0, lock_count=0)
        .on_conflict_do_nothing(index_elements=["cug_number"])
    )


def _take_send_slot(cug: str, now: datetime, device: TrustedDevice | None = None) -> bool:
    """Count one code against the number's limits; False when a limit says no.

    A browser trusted for the post counts against limits of its own (the same numbers), so
    strangers starting sign-ins on the number cannot use up the codes its officers need.
    """
    if device is not None:
        model, identity = TrustedDevice, TrustedDevice.id == device.id
    else:
        model, identity = CugThrottle, CugThrottle.cug_number == cug
    quiet_since = now - QUIET_PERIOD
    # After a quiet period a new burst starts; otherwise the burst continues while it has room
    # and the last code is old enough. Each is one conditional UPDATE, so racing requests
    # cannot both take the last slot.
    fresh_burst = db.session.execute(
        update(model)
        .where(identity, or_(model.last_sent_at.is_(None), model.last_sent_at <= quiet_since))
        .values(window_started_at=now, sends_in_window=1, last_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if fresh_burst == 1:
        return True
    continued = db.session.execute(
        update(model)
        .where(
            identity,
            model.last_sent_at > quiet_since,
            model.last_sent_at <= now - MIN_SEND_INTERVAL,
            model.sends_in_window < SENDS_PER_BURST,
        )
        .values(sends_in_window=model.sends_in_window + 1, last_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return continued == 1


def _give_back_send_slot(cug: str, device_id: int | None, sent_at: datetime) -> None:
    """A code the gateway did not take does not count: after an outage the officer can ask for
    a code at once, instead of waiting out three failed sends' 15 minutes."""
    if device_id is not None:
        model, identity = TrustedDevice, TrustedDevice.id == device_id
    else:
        model, identity = CugThrottle, CugThrottle.cug_number == cug
    db.session.execute(
        update(model)
        .where(identity, model.sends_in_window > 0)
        .values(sends_in_window=model.sends_in_window - 1, last_sent_at=sent_at - MIN_SEND_INTERVAL)
        .execution_options(synchronize_session=False)
    )


def _restore_send_window(cug: str, post_id: int | None) -> None:
    """An unlock also gives the number (and the post's trusted browsers) their codes back."""
    fresh = {"window_started_at": None, "sends_in_window": 0, "last_sent_at": None}
    db.session.execute(
        update(CugThrottle)
        .where(CugThrottle.cug_number == cug)
        .values(**fresh)
        .execution_options(synchronize_session=False)
    )
    if post_id is not None:
        db.session.execute(
            update(TrustedDevice)
            .where(TrustedDevice.post_id == post_id)
            .values(**fresh)
            .execution_options(synchronize_session=False)
        )


def _as_e164(cug) -> str | None:
    if isinstance(cug, str) and _E164_INDIA.fullmatch(cug):
        return cug
    return None


def is_locked(cug, *, now: datetime | None = None) -> bool:
    """True while strangers' wrong codes have locked the number, or wrong passwords its post's
    officer step (what the SP office sees on the post's page and can lift with ``unlock``)."""
    cug = _as_e164(cug)
    if cug is None:
        return False
    now = _now(now)
    if lockouts.is_locked(lockouts.number_key(cug), now):
        return True
    post = _active_post_with_cug(cug)
    return post is not None and lockouts.is_locked(lockouts.post_key(post.id), now)


def _number_locked(cug: str, lock: lockouts.Lock, ip: str | None) -> None:
    """Audit a number-wide lock and tell the post's handset by SMS."""
    post = _active_post_with_cug(cug)
    _audit_lock("auth.cug_locked", cug, lock, ip, post=post, reason="otp")
    if post is not None:
        _notify_lock(post, lock.until, ip)


def _audit_lock(
    action: str,
    cug: str,
    lock: lockouts.Lock,
    ip: str | None,
    *,
    post: Post | None = None,
    officer: Officer | None = None,
    reason: str,
) -> None:
    audit.record(
        action,
        outcome="denied",
        post=post,
        unit=post.unit if post else None,
        target=officer,
        ip_address=ip,
        detail={
            "cug": phone.log_safe(cug),
            "lock_count": lock.count,
            "minutes": lock.minutes,
            "reason": reason,
        },
    )


def _notify_lock(post: Post, locked_until: datetime, ip: str | None) -> None:
    """SMS to the post's handset: sign-in is locked until when, and whom to tell if it was not them.

    In Hindi, the working language of the handsets' holders (the request that caused the lock
    came from whoever was guessing, so its language says nothing about the post's).
    """
    cug, post_id = post.cug_number, post.id
    # IST, day first
    until = f"{formats.time_text(locked_until, 'hi')} {formats.numeric_date(locked_until)}"

    def report(error: sms.SmsError | None) -> None:
        notified = db.session.get(Post, post_id)
        detail = {"cug": phone.log_safe(cug)}
        if error is not None:
            current_app.logger.warning(
                "otp: lock notice to %s failed: %s", phone.log_safe(cug), error
            )
            detail["error"] = audit.redact_mobiles(str(error))
        audit.record(
            "auth.lock_notice_sent",
            outcome="failure" if error else "success",
            post=notified,
            unit=notified.unit,
            ip_address=ip,
            detail=detail,
        )

    sms.send_template(
        cug, "sign_in_locked", post.title_en[:30], until, language="hi", report=report
    )


def unlock(
    cug,
    *,
    officer: Officer | None = None,
    post: Post | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Lift every sign-in lock of a number and its post (an SP office's action, audited): the
    number-wide lock, each client's, the post's officer step and those of the officers holding
    it; their failures are forgotten, and the number's codes per 15 minutes start afresh. True
    if anything was locked."""
    cug = _as_e164(cug)
    if cug is None:
        return False
    now = _now(now)
    locked_post = _active_post_with_cug(cug)
    client_prefix = lockouts.client_key(cug, "")
    keys = [lockouts.number_key(cug)]
    if locked_post is not None:
        keys.append(lockouts.post_key(locked_post.id))
        keys += [
            lockouts.officer_key(officer_id)
            for officer_id in db.session.scalars(
                select(PostAssignment.officer_id).where(
                    PostAssignment.post_id == locked_post.id, PostAssignment.ended_at.is_(None)
                )
            )
        ]
    was_locked = any(lockouts.is_locked(key, now) for key in keys) or lockouts.any_locked(
        client_prefix, now
    )
    lockouts.clear(*keys, prefixes=(client_prefix,))
    _restore_send_window(cug, locked_post.id if locked_post is not None else None)
    audit.record(
        "auth.cug_unlocked",
        officer=officer,
        post=post,
        unit=locked_post.unit if locked_post else None,
        target=locked_post,
        ip_address=ip,
        detail={"cug": phone.log_safe(cug), "was_locked": was_locked},
    )
    return was_locked


# ---- the officer step -------------------------------------------------------------------------


def _proof_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _open_proof(token, now: datetime) -> HandsetProof | None:
    if not isinstance(token, str) or not _PUBLIC_ID.fullmatch(token):
        return None
    return db.session.scalar(
        select(HandsetProof).where(
            HandsetProof.token_hash == _proof_hash(token),
            HandsetProof.consumed_at.is_(None),
            HandsetProof.expires_at > now,
            HandsetProof.attempts < PROOF_ATTEMPTS,
        )
    )


def handset_post(proof_token, *, now: datetime | None = None) -> Post | None:
    """The post whose handset step this browser passed, while its proof is still good for the
    officer step (unused, within 5 minutes and 3 attempts, the post unchanged)."""
    proof = _open_proof(proof_token, _now(now))
    if proof is None:
        return None
    post = proof.post
    return post if post.active and post.cug_number == proof.cug_number else None


def _claim_proof_attempt(token, now: datetime) -> HandsetProof | None:
    """Take one of the proof's attempts (compare-and-set); None when it has none left."""
    if not isinstance(token, str) or not _PUBLIC_ID.fullmatch(token):
        return None
    proof_id = db.session.execute(
        update(HandsetProof)
        .where(
            HandsetProof.token_hash == _proof_hash(token),
            HandsetProof.consumed_at.is_(None),
            HandsetProof.expires_at > now,
            HandsetProof.attempts < PROOF_ATTEMPTS,
        )
        .values(attempts=HandsetProof.attempts + 1)
        .returning(HandsetProof.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    return db.session.get(HandsetProof, proof_id, populate_existing=True) if proof_id else None


def _consume_proof(proof: HandsetProof, officer: Officer, now: datetime) -> bool:
    """Use the proof up for ``officer``'s sign-in; True for exactly one caller."""
    consumed = (
        db.session.execute(
            update(HandsetProof)
            .where(HandsetProof.id == proof.id, HandsetProof.consumed_at.is_(None))
            .values(consumed_at=now, officer_id=officer.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    db.session.expire(proof)
    return consumed


def _officer_id_for(pno, post: Post) -> int | None:
    """The officer holding ``post`` that a typed PNO names (read as
    ``accounts.authenticate_officer`` reads it). Guesses at anyone else cannot succeed on this
    post, so they are counted against the post only: a colleague cannot lock out an officer
    of another post by typing their PNO."""
    pno = (pno or "").strip().upper() if isinstance(pno, str) else ""
    if not accounts.PNO_PATTERN.fullmatch(pno):
        return None
    return db.session.scalar(
        select(Officer.id)
        .join(PostAssignment, PostAssignment.officer_id == Officer.id)
        .where(
            Officer.pno == pno, PostAssignment.post_id == post.id, PostAssignment.ended_at.is_(None)
        )
        .limit(1)
    )


def sign_in_officer(
    proof_token,
    pno,
    password,
    *,
    ip: str | None = None,
    user_agent: str = "",
    device_token=None,
    device_name: str | None = None,
    now: datetime | None = None,
) -> OfficerStepOutcome:
    """Step 2: the officer on duty proves who they are with PNO and password on the post whose
    handset step this browser passed (``proof_token``, from ``verify``).

    With ``device_name`` the success registers a phone for the API instead of opening a web
    session: the outcome carries its device token (``device_tokens.issue``) and no principal.

    The proof gives 3 attempts and one sign-in (compare-and-set), so a replayed cookie opens no
    second session. Each attempt is counted as a failure *before* the password is checked,
    against the post and against the officer the PNO names; a locked post or officer is not
    checked at all. A success gives the post's attempt back and resets the officer's own count
    only: one officer signing in never wipes out the failures of guesses at another's password.
    On success the session is started, the browser is trusted for the post (its device cookie's
    token is returned) and the sign-in is audited.
    """
    now = _now(now)
    proof = _claim_proof_attempt(proof_token, now)
    if proof is None:
        _audit_officer_failure(None, ip, "no_handset_proof")
        return OfficerStepOutcome(restart=True)
    post = proof.post
    if not post.active or post.cug_number != proof.cug_number:
        _audit_officer_failure(None, ip, "post_changed")
        return OfficerStepOutcome(restart=True)
    out_of_attempts = proof.attempts >= PROOF_ATTEMPTS
    post_key = lockouts.post_key(post.id)
    post_failures = lockouts.claim(post_key, now)
    if post_failures is None:
        _audit_officer_failure(post, ip, "locked")
        return OfficerStepOutcome(restart=True)
    officer_id = _officer_id_for(pno, post)
    officer_key = lockouts.officer_key(officer_id) if officer_id is not None else None
    officer_failures = lockouts.claim(officer_key, now) if officer_key else 0
    if officer_failures is None:
        # Not checked, so not counted against the post either.
        lockouts.release(post_key)
        _audit_officer_failure(post, ip, "officer_locked")
        return OfficerStepOutcome(restart=out_of_attempts)

    officer = accounts.authenticate_officer(post, pno, password)
    if (
        officer is not None
        and proof.totp_officer_id is not None
        and officer.id != proof.totp_officer_id
    ):
        officer = None  # the authenticator app that passed the handset step is someone else's
    if officer is not None:
        if not _consume_proof(proof, officer, now):
            # Used meanwhile by a request with the same cookie: the right password is not a failure.
            lockouts.release(post_key)
            lockouts.release(officer_key)
            _audit_officer_failure(post, ip, "handset_proof_used")
            return OfficerStepOutcome(restart=True)
        lockouts.release(post_key)
        lockouts.reset(officer_key)
        if device_name is not None:
            issued = device_tokens.issue(officer, post, device_name, ip or "")
            audit.record(
                "auth.sign_in",
                officer=officer,
                post=post,
                unit=post.unit,
                ip_address=ip,
                detail={"device": issued.device.id},
            )
            return OfficerStepOutcome(issued=issued)
        principal = sessions.start(officer, post, ip or "", user_agent)
        device_token = lockouts.trust_device(device_token, post.id, now)
        audit.record("auth.sign_in", officer=officer, post=post, unit=post.unit, ip_address=ip)
        return OfficerStepOutcome(principal=principal, device_token=device_token)

    post_lock = lockouts.lock_at_limit(post_key, post_failures, lockouts.POST_PASSWORDS, now)
    if post_lock is not None:
        _audit_lock(
            "auth.post_locked", post.cug_number, post_lock, ip, post=post, reason="officer_password"
        )
        _notify_lock(post, post_lock.until, ip)
    if officer_key is not None:
        officer_lock = lockouts.lock_at_limit(
            officer_key, officer_failures, lockouts.OFFICER_PASSWORDS, now
        )
        if officer_lock is not None:
            _audit_lock(
                "auth.officer_locked",
                post.cug_number,
                officer_lock,
                ip,
                post=post,
                officer=db.session.get(Officer, officer_id),
                reason="officer_password",
            )
    _audit_officer_failure(post, ip, "wrong_password")
    return OfficerStepOutcome(restart=out_of_attempts or post_lock is not None)


def _audit_officer_failure(post: Post | None, ip: str | None, reason: str) -> None:
    audit.record(
        "auth.sign_in",
        outcome="failure",
        post=post,
        unit=post.unit if post else None,
        ip_address=ip,
        detail={"step": "officer", "reason": reason},
    )


# ---- lookups ----------------------------------------------------------------------------------


def _find_challenge(public_id) -> OtpChallenge | None:
    if not isinstance(public_id, str) or not _PUBLIC_ID.fullmatch(public_id):
        return None
    return db.session.scalar(select(OtpChallenge).where(OtpChallenge.public_id == public_id))


def _active_post_with_cug(cug: str) -> Post | None:
    return db.session.scalar(select(Post).where(Post.cug_number == cug, Post.active.is_(True)))


def _post_still_holding(challenge: OtpChallenge) -> Post | None:
    """The challenge's post, if it is still active and still has the challenged number."""
    post = challenge.post
    if post is None or not post.active or post.cug_number != challenge.cug_number:
        return None
    return post


def _audit_suppressed(cug: str, reason: str, ip: str | None) -> None:
    # Deliberately no post or unit: the event must read the same for registered numbers.
    audit.record(
        "auth.otp_suppressed",
        outcome="denied",
        ip_address=ip,
        detail={"cug": phone.log_safe(cug), "reason": reason},
    )


def _audit_failed(cug: str, reason: str, ip: str | None, post: Post | None = None) -> None:
    audit.record(
        "auth.otp_failed",
        outcome="failure",
        post=post,
        unit=post.unit if post else None,
        ip_address=ip,
        detail={"cug": phone.log_safe(cug), "reason": reason},
    )


# ---- authenticator apps -----------------------------------------------------------------------


def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits) for an officer's authenticator app."""
    return pyotp.random_base32()


def totp_issuer() -> str:
    """The name an authenticator app shows for our codes (config ``TOTP_ISSUER``)."""
    return current_app.config.get("TOTP_ISSUER") or TOTP_ISSUER


def provisioning_uri(secret: str, officer: Officer) -> str:
    """The ``otpauth://`` URI an authenticator app scans; labelled by PNO, not by name."""
    return pyotp.TOTP(secret).provisioning_uri(name=officer.pno, issuer_name=totp_issuer())


def forget_unreadable_authenticator(principal: Principal) -> bool:
    """An authenticator whose secret was sealed under an earlier secret key cannot work: mark
    the signed-in officer's unconfirmed (audited), so they set it up again. True when that
    happened."""
    officer = principal.officer
    if not officer.totp_confirmed or officer.totp_secret is not None:
        return False
    officer.totp_confirmed = False
    audit.record(
        "auth.authenticator_reset",
        actor=principal,
        target=officer,
        unit=officer.unit,
        detail={"reason": "secret_unreadable"},
    )
    return True


def confirm_totp(officer: Officer, code, *, now: datetime | None = None) -> bool:
    """Mark the officer's authenticator as working when ``code`` is right (and unused)."""
    if not officer.totp_secret or not isinstance(code, str) or not _CODE.fullmatch(code):
        return False
    step = _matching_step(officer.totp_secret, code, _now(now))
    # Claiming the step also stops the enrolment code from being replayed at sign-in.
    return step is not None and _claim_step(officer, step, confirm=True)


def current_totp_code(secret: str, *, now: datetime | None = None) -> str:
    """What the authenticator app shows at ``now`` (for tests and the CLI, never for logs)."""
    return pyotp.TOTP(secret).at(_now(now))


def qr_svg(uri: str) -> str:
    """The URI as a standalone SVG QR code, drawn here so the secret never leaves the server."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=4,
        border=4,
        light="#fff",
        title="Authenticator QR code",
    )
    return buffer.getvalue().decode("utf-8")
