"""Failed sign-in attempts, counted per subject, and the escalating locks they lead to (issue 14).

Who is counted, and what a lock stops (each a row of ``sign_in_counters``):

==========================  =====================================  ======  ======================
subject (key)               counts                                 locks   a success
==========================  =====================================  ======  ======================
``cug-client:N|client``     wrong codes on number N from one        5      from that client resets
                            client (its address, or its trusted
                            device cookie for N's post)
``cug:N``                   wrong codes on number N from anywhere   50     (a right code) resets
``post:P``                  wrong PNO/passwords at P's officer      10     never resets: the count
                            step, whoever typed them                       lapses after 24 hours
``officer:O``               wrong passwords for officer O, on a     5      of O alone resets
                            post O holds
==========================  =====================================  ======  ======================

A lock lasts 15 minutes, then 1 hour, 4 hours and 24 hours for locks that follow within a day of
the previous one's end; failures older than 24 hours no longer count. NIST SP 800-63B (5.2.2)
allows at most 100 consecutive failures on an account before it is locked: the highest limit
here is 50.

A stranger who knows a CUG number can lock only their own client out of it (5 wrong codes). The
number-wide lock needs 50 wrong codes from many addresses; even then a browser that signed in to
that post before (a trusted device, below) is spared and counted on its own, and the SP office
can lift every lock of a post at once (``cplan.services.otp.unlock``).

A client is the caller's address (an IPv6 address by its /64 network, which one subscriber
holds) or, for a browser holding a device cookie trusted for the post, that device: a stranger
behind the same carrier-grade NAT as the officer cannot lock the officer's browser out.

Every count is one conditional UPDATE that takes the attempt *before* it is checked (``claim``),
so parallel attempts queue on the row and cannot all slip past the limit; a right answer gives
the attempt back (``release``). Services flush; the view commits.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cplan.extensions import db
from cplan.models.accounts import SignInCounter, TrustedDevice

LOCK_DURATIONS = (
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=24),
)
# A lock more than this long after the previous one ended starts the escalation again.
ESCALATION_MEMORY = timedelta(hours=24)
# Failures older than this no longer count.
FAILURE_WINDOW = timedelta(hours=24)
# A browser stays trusted for a post this long after its last completed sign-in there.
DEVICE_TRUST = timedelta(days=30)


@dataclass(frozen=True)
class Policy:
    """How many failures of one kind of subject lock it."""

    kind: str
    limit: int


CLIENT_CODES = Policy("cug-client", 5)
NUMBER_CODES = Policy("cug", 50)
POST_PASSWORDS = Policy("post", 10)
OFFICER_PASSWORDS = Policy("officer", 5)


@dataclass(frozen=True)
class Lock:
    """A lock just set: until when, the how-manieth in a row, and its length in minutes."""

    until: datetime
    count: int
    minutes: int


def number_key(cug: str) -> str:
    return f"{NUMBER_CODES.kind}:{cug}"


def client_key(cug: str, client: str) -> str:
    return f"{CLIENT_CODES.kind}:{cug}|{client}"


def post_key(post_id: int) -> str:
    return f"{POST_PASSWORDS.kind}:{post_id}"


def officer_key(officer_id: int) -> str:
    return f"{OFFICER_PASSWORDS.kind}:{officer_id}"


def address_client(ip: str | None) -> str:
    """The client an address stands for: IPv4 as it is, IPv6 by its /64 network."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "ip:unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return "ip:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return f"ip:{address}"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- counting ---------------------------------------------------------------------------------


def _ensure(key: str) -> None:
    """Create the subject's row if missing; two first requests racing both succeed."""
    dialect = db.session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        raise RuntimeError(f"no upsert for the {dialect} database")
    db.session.execute(
        insert(SignInCounter)
        .values(key=key, failures=0, lock_count=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )


def claim(key: str, now: datetime, *, honour_lock: bool = True) -> int | None:
    """Count an attempt as a failure before it is checked; the failures so far, or None while
    the subject is locked (then the attempt must not be checked). ``honour_lock=False`` counts
    even through a lock (a trusted device on a number strangers have locked).

    The UPDATE holds the row until commit, so attempts on one subject queue up here.
    """
    _ensure(key)
    stale = or_(
        SignInCounter.window_started_at.is_(None),
        SignInCounter.window_started_at <= now - FAILURE_WINDOW,
    )
    conditions = [SignInCounter.key == key]
    if honour_lock:
        conditions.append(
            or_(SignInCounter.locked_until.is_(None), SignInCounter.locked_until <= now)
        )
    row = db.session.execute(
        update(SignInCounter)
        .where(*conditions)
        .values(
            failures=case((stale, 1), else_=SignInCounter.failures + 1),
            window_started_at=case((stale, now), else_=SignInCounter.window_started_at),
        )
        .returning(SignInCounter.failures)
        .execution_options(synchronize_session=False)
    ).first()
    return row[0] if row else None


def release(key: str) -> None:
    """Give back an attempt taken by ``claim`` that turned out right (the count stays otherwise)."""
    db.session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == key, SignInCounter.failures > 0)
        .values(failures=SignInCounter.failures - 1)
        .execution_options(synchronize_session=False)
    )


def reset(key: str) -> None:
    """Forget the subject's failures (its locks and their escalation stay)."""
    db.session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == key, SignInCounter.failures != 0)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )


def lock_at_limit(key: str, failures: int, policy: Policy, now: datetime) -> Lock | None:
    """Lock the subject if ``failures`` reached the policy's limit; the new lock, or None.

    Called while this transaction holds the row (``claim``), so reading the previous lock and
    writing the new one cannot interleave with another failure.
    """
    if failures < policy.limit:
        return None
    counter = db.session.get(SignInCounter, key, populate_existing=True)
    recent = counter.locked_until is not None and counter.locked_until > now - ESCALATION_MEMORY
    lock_count = (counter.lock_count if recent else 0) + 1
    duration = LOCK_DURATIONS[min(lock_count, len(LOCK_DURATIONS)) - 1]
    locked_until = now + duration
    locked = db.session.execute(
        update(SignInCounter)
        .where(SignInCounter.key == key, SignInCounter.failures >= policy.limit)
        .values(
            locked_until=locked_until, lock_count=lock_count, failures=0, window_started_at=None
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(counter)
    return (
        Lock(locked_until, lock_count, int(duration.total_seconds() // 60)) if locked == 1 else None
    )


def locked_until(key: str, now: datetime) -> datetime | None:
    """The end of the subject's lock, or None when it is not locked now."""
    until = db.session.scalar(select(SignInCounter.locked_until).where(SignInCounter.key == key))
    return until if until is not None and until > now else None


def is_locked(key: str, now: datetime) -> bool:
    return locked_until(key, now) is not None


def any_locked(keys_like: str, now: datetime) -> bool:
    """True when a subject whose key starts with ``keys_like`` is locked now."""
    return (
        db.session.scalar(
            select(SignInCounter.key)
            .where(
                SignInCounter.key.startswith(keys_like, autoescape=True),
                SignInCounter.locked_until > now,
            )
            .limit(1)
        )
        is not None
    )


def clear(*keys: str, prefixes: tuple[str, ...] = ()) -> int:
    """Lift the locks and forget the failures of the subjects named (an administrator's unlock);
    the number of rows that were locked or counting."""
    conditions = [SignInCounter.key.in_(keys)] if keys else []
    conditions += [SignInCounter.key.startswith(prefix, autoescape=True) for prefix in prefixes]
    if not conditions:
        return 0
    return db.session.execute(
        delete(SignInCounter).where(or_(*conditions)).execution_options(synchronize_session=False)
    ).rowcount


# ---- trusted devices --------------------------------------------------------------------------


def trusted_device(token, post_id: int | None, now: datetime) -> TrustedDevice | None:
    """The trust the browser's device cookie ``token`` holds for the post, if still valid."""
    if post_id is None or not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return db.session.scalar(
        select(TrustedDevice).where(
            TrustedDevice.token_hash == _token_hash(token),
            TrustedDevice.post_id == post_id,
            TrustedDevice.last_signed_in_at > now - DEVICE_TRUST,
        )
    )


def device_client(device: TrustedDevice) -> str:
    """The client a trusted browser is counted as (apart from its address)."""
    return f"device:{device.id}"


def trust_device(token, post_id: int, now: datetime) -> str:
    """Remember that this browser completed a sign-in on the post; the cookie's token to keep
    (the browser's own when it has a well-formed one, else a new one)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100 or not token.isascii():
        token = secrets.token_urlsafe(32)
    token_hash = _token_hash(token)
    refreshed = db.session.execute(
        update(TrustedDevice)
        .where(TrustedDevice.token_hash == token_hash, TrustedDevice.post_id == post_id)
        .values(last_signed_in_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not refreshed:
        dialect = db.session.get_bind().dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
        db.session.execute(
            insert(TrustedDevice)
            .values(
                token_hash=token_hash,
                post_id=post_id,
                created_at=now,
                last_signed_in_at=now,
                sends_in_window=0,
            )
            .on_conflict_do_nothing(index_elements=["token_hash", "post_id"])
        )
    return token
