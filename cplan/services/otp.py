"""One-time codes for the handset step of sign-in, and officers' authenticator apps.

The only module that imports ``pyotp``. The rules (issue "Sign-in with CUG number and OTP"):

* A code is 6 ASCII digits, valid for 5 minutes, accepted once, and only for the challenge (and
  so the CUG number) it was issued for. Only an HMAC of it is stored; it is never logged.
* Starting or resending issues a new code and makes every earlier code of that number useless.
* At most 3 codes go to one number in a burst, at least 60 s apart; the count starts again after
  15 minutes without a code, so no 15-minute span ever holds more than 3.
* 5 failures lock the number for 15 minutes, then 1 h, 4 h and 24 h for locks that follow within
  a day of the previous one. Neither a resend nor a new start clears failures; only a completed
  sign-in does (``reset_failures``, called by the view once the officer has also proved who they
  are, so the handset alone cannot buy more password guesses).
* Unknown, deactivated, locked and limited numbers get a challenge and a ticket exactly like a
  registered one, but no SMS; counters exist for every well-formed number, so nothing the caller
  sees reveals whether a number is registered.
* An officer holding the post may answer with their authenticator app instead (TOTP, one step of
  clock drift either way, each step accepted once).

Every decision that two requests could race for is one conditional UPDATE whose row count says
who won, so it holds on SQLite and PostgreSQL alike. Services flush; the view commits.
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

from cplan.extensions import db
from cplan.models.accounts import CugThrottle, Officer, OtpChallenge, Post, PostAssignment
from cplan.models.base import utcnow
from cplan.services import audit, phone, sms

CODE_DIGITS = 6
# The SMS text promises 5 minutes: change both together (and re-register the DLT template).
CODE_LIFETIME = timedelta(minutes=5)
SENDS_PER_BURST = 3
QUIET_PERIOD = timedelta(minutes=15)
MIN_SEND_INTERVAL = timedelta(seconds=60)
FAILURE_LIMIT = 5
LOCK_DURATIONS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=24))
# A lock more than this long after the previous one ended starts the escalation again.
ESCALATION_MEMORY = timedelta(hours=24)
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


_FAILED = VerifyOutcome(ok=False)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else clock()


# ---- the sign-in challenge ---------------------------------------------------------------------


def start_challenge(cug_text, ip: str | None = None, *, language: str = "en",
                    now: datetime | None = None) -> ChallengeTicket:
    """Open a challenge for the typed number and send a code if, and only if, it may get one."""
    now = _now(now)
    challenge = OtpChallenge(
        public_id=secrets.token_urlsafe(32), cug_number="", created_at=now, expires_at=now + CODE_LIFETIME
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
    _issue_code(challenge, ip, now, language)
    return ChallengeTicket(challenge.public_id)


def resend(public_id, ip: str | None = None, *, language: str = "en",
           now: datetime | None = None) -> ChallengeTicket:
    """A new code for the same challenge, under the same limits; the earlier code stops working."""
    now = _now(now)
    challenge = _find_challenge(public_id)
    if challenge is None:
        _audit_suppressed("", "unknown_challenge", ip)
        return ChallengeTicket(public_id if isinstance(public_id, str) else "")
    _issue_code(challenge, ip, now, language)
    return ChallengeTicket(challenge.public_id)


def verify(public_id, code_text, ip: str | None = None, *, now: datetime | None = None) -> VerifyOutcome:
    """Check the code typed for challenge ``public_id``; never raises on bad input."""
    now = _now(now)
    challenge = _find_challenge(public_id)
    if challenge is None or not challenge.cug_number:
        # No number to count a failure against: such a challenge never had a code.
        _audit_failed(challenge.cug_number if challenge else "", "unknown_challenge", ip)
        return _FAILED
    cug = challenge.cug_number
    _ensure_throttle(cug)
    failures = _claim_attempt(cug, now)
    if failures is None:
        # Not even checked: a lock must not become a way to learn whether a guess was right.
        _audit_failed(cug, "locked", ip)
        return _FAILED

    code = code_text if isinstance(code_text, str) and _CODE.fullmatch(code_text) else None
    post = _post_still_holding(challenge)
    if code is not None and post is not None:
        sms_code_hash = _code_hash(challenge, code) if challenge.code_hash is not None else None
        if sms_code_hash is not None and _consume(challenge, now, code_hash=sms_code_hash):
            _release_attempt(cug)
            return _verified(challenge, post, None, ip)
        officer = _consume_with_authenticator(challenge, post, code, now)
        if officer is not None:
            _release_attempt(cug)
            return _verified(challenge, post, officer, ip)

    if failures >= FAILURE_LIMIT:
        _lock(cug, ip, "otp", now)
    # Audit last: every path takes the number's row before the audit chain's lock, so two
    # requests never wait on each other in opposite order.
    _audit_failed(cug, "malformed_code" if code is None else "wrong_code", ip, post=post)
    return _FAILED


def _verified(challenge: OtpChallenge, post: Post, officer: Officer | None, ip: str | None) -> VerifyOutcome:
    db.session.expire(challenge)
    audit.record(
        "auth.otp_verified", officer=officer, post=post, unit=post.unit, ip_address=ip,
        detail={"cug": phone.log_safe(challenge.cug_number),
                "method": "authenticator" if officer else "sms"},
    )
    return VerifyOutcome(ok=True, post=post, totp_officer=officer)


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


def _issue_code(challenge: OtpChallenge, ip: str | None, now: datetime, language: str) -> None:
    """Send a fresh code for ``challenge`` if the number's lock and limits allow it."""
    cug = challenge.cug_number
    if not cug:
        _audit_suppressed("", "malformed_number", ip)
        return
    _ensure_throttle(cug)
    # Lock and limits come before the registration check, so they behave the same for all.
    if is_locked(cug, now=now):
        _audit_suppressed(cug, "locked", ip)
        return
    if not _take_send_slot(cug, now):
        _audit_suppressed(cug, "limited", ip)
        return
    post = _post_still_holding(challenge)
    code = _new_code() if post is not None else None
    renewed = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge.id, OtpChallenge.consumed_at.is_(None),
               OtpChallenge.superseded_at.is_(None))
        .values(code_hash=_code_hash(challenge, code) if code else None,
                expires_at=now + CODE_LIFETIME, sent_at=now if code else None)
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
        .where(OtpChallenge.cug_number == cug, OtpChallenge.id != challenge.id,
               OtpChallenge.consumed_at.is_(None), OtpChallenge.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    if post is None:
        _audit_suppressed(cug, "not_registered", ip)
        return
    post_id = post.id

    def report(error: sms.SmsError | None) -> None:
        # Here, or after the response in a transaction of its own (sms.send_template).
        sent_for = db.session.get(Post, post_id)
        detail = {"cug": phone.log_safe(cug)}
        if error is not None:
            current_app.logger.warning("otp: SMS to %s failed: %s", phone.log_safe(cug), error)
            detail["error"] = audit.redact_mobiles(str(error))
        audit.record("auth.otp_sent", outcome="failure" if error else "success", post=sent_for,
                     unit=sent_for.unit, ip_address=ip, detail=detail)

    sms.send_template(cug, "otp", code, language=language if language in sms.LANGUAGES else "en",
                      report=report)


def _new_code() -> str:
    # A random secret's HOTP value is a uniformly distributed 6-digit string.
    return pyotp.HOTP(pyotp.random_base32(), digits=CODE_DIGITS).at(0)


def _code_hash(challenge: OtpChallenge, code: str) -> str:
    """HMAC-SHA256 under the app's secret key, bound to this challenge and this number."""
    key = current_app.config["SECRET_KEY"].encode()
    message = f"cplan-otp|{challenge.public_id}|{challenge.cug_number}|{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _consume(challenge: OtpChallenge, now: datetime, *, code_hash: str | None = None,
             totp_officer: Officer | None = None) -> bool:
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
        update(OtpChallenge).where(*conditions).values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _consume_with_authenticator(challenge: OtpChallenge, post: Post, code: str,
                                now: datetime) -> Officer | None:
    """The officer holding ``post`` whose authenticator shows ``code`` now, if that step is unused."""
    holders = db.session.scalars(
        select(Officer).where(
            Officer.id.in_(select(PostAssignment.officer_id).where(
                PostAssignment.post_id == post.id, PostAssignment.ended_at.is_(None))),
            Officer.active.is_(True),
            Officer.totp_confirmed.is_(True),
            Officer.totp_secret.is_not(None),
        ).order_by(Officer.id)
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
    claimed = db.session.execute(
        update(Officer).where(Officer.id == officer.id, Officer.totp_last_step < step)
        .values(**values).execution_options(synchronize_session=False)
    ).rowcount == 1
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


def _take_send_slot(cug: str, now: datetime) -> bool:
    """Count one code against the number's limits; False when a limit says no."""
    quiet_since = now - QUIET_PERIOD
    # After a quiet period a new burst starts; otherwise the burst continues while it has room
    # and the last code is old enough. Each is one conditional UPDATE, so racing requests
    # cannot both take the last slot.
    fresh_burst = db.session.execute(
        update(CugThrottle)
        .where(CugThrottle.cug_number == cug,
               or_(CugThrottle.last_sent_at.is_(None), CugThrottle.last_sent_at <= quiet_since))
        .values(window_started_at=now, sends_in_window=1, last_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if fresh_burst == 1:
        return True
    continued = db.session.execute(
        update(CugThrottle)
        .where(CugThrottle.cug_number == cug,
               CugThrottle.last_sent_at > quiet_since,
               CugThrottle.last_sent_at <= now - MIN_SEND_INTERVAL,
               CugThrottle.sends_in_window < SENDS_PER_BURST)
        .values(sends_in_window=CugThrottle.sends_in_window + 1, last_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return continued == 1


def _throttle(cug: str) -> CugThrottle | None:
    return db.session.get(CugThrottle, cug, populate_existing=True)


def _as_e164(cug) -> str | None:
    if isinstance(cug, str) and _E164_INDIA.fullmatch(cug):
        return cug
    return None


def is_locked(cug, *, now: datetime | None = None) -> bool:
    """True while the number is locked after too many failures."""
    cug = _as_e164(cug)
    if cug is None:
        return False
    locked_until = db.session.scalar(
        select(CugThrottle.locked_until).where(CugThrottle.cug_number == cug)
    )
    return locked_until is not None and locked_until > _now(now)


def _claim_attempt(cug: str, now: datetime) -> int | None:
    """Count an attempt as a failure *before* checking it; None while the number is locked.

    The UPDATE holds the number's row until commit, so attempts on one number queue up here:
    parallel guesses cannot all slip past the lock check before the first one sets the lock.
    A right code gives the attempt back (``_release_attempt``).
    """
    row = db.session.execute(
        update(CugThrottle)
        .where(CugThrottle.cug_number == cug,
               or_(CugThrottle.locked_until.is_(None), CugThrottle.locked_until <= now))
        .values(failures=CugThrottle.failures + 1)
        .returning(CugThrottle.failures)
        .execution_options(synchronize_session=False)
    ).first()
    return row[0] if row else None


def _release_attempt(cug: str) -> None:
    db.session.execute(
        update(CugThrottle).where(CugThrottle.cug_number == cug, CugThrottle.failures > 0)
        .values(failures=CugThrottle.failures - 1)
        .execution_options(synchronize_session=False)
    )


def claim_attempt(cug, *, now: datetime | None = None) -> int | None:
    """Count a sign-in attempt on the number as a failure before it is checked (the officer
    step: PNO and password); None while the number is locked, and then do not check it.

    Parallel guesses queue on the number's row, so they cannot all pass before the lock. After
    checking: ``fail_attempt`` on failure; a completed sign-in resets the count (``reset_failures``).
    """
    cug = _as_e164(cug)
    if cug is None:
        return None
    _ensure_throttle(cug)
    return _claim_attempt(cug, _now(now))


def fail_attempt(cug, failures: int, ip: str | None = None, *, reason: str, now: datetime | None = None) -> None:
    """The attempt claimed by ``claim_attempt`` failed: lock the number at the limit."""
    cug = _as_e164(cug)
    if cug is not None and failures >= FAILURE_LIMIT:
        _lock(cug, ip, reason, _now(now))


def record_failure(cug, ip: str | None = None, *, reason: str, now: datetime | None = None) -> None:
    """Count a failed attempt on the number (a wrong code or a wrong officer password)."""
    cug = _as_e164(cug)
    if cug is None:
        return
    now = _now(now)
    _ensure_throttle(cug)
    failures = db.session.execute(
        update(CugThrottle).where(CugThrottle.cug_number == cug)
        .values(failures=CugThrottle.failures + 1)
        .returning(CugThrottle.failures)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    if failures >= FAILURE_LIMIT:
        _lock(cug, ip, reason, now)


def _lock(cug: str, ip: str | None, reason: str, now: datetime) -> None:
    # Our UPDATE above holds the row (PostgreSQL row lock, SQLite write lock) until commit, so
    # reading it and writing the lock cannot interleave with another failure.
    throttle = _throttle(cug)
    recent = throttle.locked_until is not None and throttle.locked_until > now - ESCALATION_MEMORY
    lock_count = (throttle.lock_count if recent else 0) + 1
    locked_until = now + LOCK_DURATIONS[min(lock_count, len(LOCK_DURATIONS)) - 1]
    locked = db.session.execute(
        update(CugThrottle)
        .where(CugThrottle.cug_number == cug, CugThrottle.failures >= FAILURE_LIMIT)
        .values(locked_until=locked_until, lock_count=lock_count, failures=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(throttle)
    if locked == 1:
        post = _active_post_with_cug(cug)
        audit.record(
            "auth.cug_locked", outcome="denied", post=post, unit=post.unit if post else None,
            ip_address=ip,
            detail={"cug": phone.log_safe(cug), "lock_count": lock_count, "reason": reason,
                    "minutes": int((locked_until - now).total_seconds() // 60)},
        )


def reset_failures(cug) -> None:
    """Forget the number's failures after a completed sign-in (locks and escalation stay)."""
    cug = _as_e164(cug)
    if cug is None:
        return
    db.session.execute(
        update(CugThrottle).where(CugThrottle.cug_number == cug, CugThrottle.failures != 0)
        .values(failures=0).execution_options(synchronize_session=False)
    )


def unlock(cug, *, officer: Officer | None = None, post: Post | None = None, ip: str | None = None,
           now: datetime | None = None) -> bool:
    """Lift a number's lock and reset its counters (an administrator's action); True if it was locked."""
    cug = _as_e164(cug)
    if cug is None:
        return False
    was_locked = is_locked(cug, now=now)
    db.session.execute(
        update(CugThrottle).where(CugThrottle.cug_number == cug)
        .values(locked_until=None, failures=0, lock_count=0)
        .execution_options(synchronize_session=False)
    )
    locked_post = _active_post_with_cug(cug)
    audit.record(
        "auth.cug_unlocked", officer=officer, post=post, unit=locked_post.unit if locked_post else None,
        target=locked_post, ip_address=ip, detail={"cug": phone.log_safe(cug), "was_locked": was_locked},
    )
    return was_locked


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
    audit.record("auth.otp_suppressed", outcome="denied", ip_address=ip,
                 detail={"cug": phone.log_safe(cug), "reason": reason})


def _audit_failed(cug: str, reason: str, ip: str | None, post: Post | None = None) -> None:
    audit.record("auth.otp_failed", outcome="failure", post=post, unit=post.unit if post else None,
                 ip_address=ip, detail={"cug": phone.log_safe(cug), "reason": reason})


# ---- authenticator apps -----------------------------------------------------------------------


def new_totp_secret() -> str:
    """A fresh base32 secret (160 bits) for an officer's authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, officer: Officer) -> str:
    """The ``otpauth://`` URI an authenticator app scans; labelled by PNO, not by name."""
    issuer = current_app.config.get("TOTP_ISSUER") or TOTP_ISSUER
    return pyotp.TOTP(secret).provisioning_uri(name=officer.pno, issuer_name=issuer)


def forget_unreadable_authenticator(officer: Officer) -> bool:
    """An authenticator whose secret was sealed under an earlier secret key cannot work: mark
    it unconfirmed (audited), so the officer sets it up again. True when that happened."""
    if not officer.totp_confirmed or officer.totp_secret is not None:
        return False
    officer.totp_confirmed = False
    audit.record("auth.authenticator_reset", target=officer, unit=officer.unit,
                 detail={"reason": "secret_unreadable"})
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
        buffer, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=4, light="#fff",
        title="Authenticator QR code",
    )
    return buffer.getvalue().decode("utf-8")
