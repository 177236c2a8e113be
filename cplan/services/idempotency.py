"""Safe retries: the first answer to a POST sent with an ``Idempotency-Key`` is kept for 24
hours, and the same key with the same request gets that answer again instead of a second
change; the same key with another request is refused.

A request *claims* its key before it runs (a row without an answer, committed at once), so two
copies sent together cannot both run: the unique (scope, key) lets one insert win; the other
finds the claim and is told the first is still running. The answer is stored after the change
has been committed; a request that fails on our side (5xx) gives its claim back, so the retry
runs. Nothing here reads the request: the web layer passes scope, key and fingerprint.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from cplan.extensions import db, ensure_write_transaction
from cplan.models.api import IdempotentRequest
from cplan.models.base import utcnow

KEPT_FOR = timedelta(hours=24)
# Printable ASCII, as in the IETF draft's examples (UUIDs, random strings).
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")


class Outcome(enum.Enum):
    RUN = "run"  # claimed: run the request, then ``complete`` or ``release``
    REPLAY = "replay"  # answered before: send ``record``'s answer again
    MISMATCH = "mismatch"  # the key was used for another request (422)
    IN_PROGRESS = "in_progress"  # the first request with this key is still running (409)


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    record: IdempotentRequest | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def valid_key(key: str | None) -> bool:
    return bool(key) and KEY_PATTERN.fullmatch(key) is not None


def _existing(scope: str, key: str) -> IdempotentRequest | None:
    return db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.scope == scope,
            IdempotentRequest.key == key,
            IdempotentRequest.expires_at > utcnow(),
        )
    )


def _answer_to(record: IdempotentRequest, print_: str) -> Claim:
    if record.fingerprint != print_:
        return Claim(Outcome.MISMATCH, record)
    if record.status is None:
        return Claim(Outcome.IN_PROGRESS, record)
    return Claim(Outcome.REPLAY, record)


def claim(scope: str, key: str, print_: str) -> Claim:
    """Claim ``key`` for this request, or say why it must not run. Commits the claim (a short
    transaction of its own, before the request's)."""
    record = _existing(scope, key)
    if record is not None:
        return _answer_to(record, print_)
    ensure_write_transaction()
    now = utcnow()
    # An expired claim of the same key goes, so the key may be used again.
    db.session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.scope == scope,
            IdempotentRequest.key == key,
            IdempotentRequest.expires_at <= now,
        )
    )
    record = IdempotentRequest(
        scope=scope, key=key, fingerprint=print_, created_at=now, expires_at=now + KEPT_FOR
    )
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        record = _existing(scope, key)
        if record is None:  # claimed and given back meanwhile: the retry may run
            return claim(scope, key, print_)
        return _answer_to(record, print_)
    return Claim(Outcome.RUN, record)


def complete(record_id: int, status: int, content_type: str, body: str) -> None:
    """Keep the answer of the claimed request (flush; the caller commits)."""
    ensure_write_transaction()
    db.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == record_id)
        .values(status=status, content_type=content_type[:100], body=body)
        .execution_options(synchronize_session=False)
    )


def release(record_id: int) -> None:
    """Give the claim back (the request failed on our side): a retry runs again."""
    ensure_write_transaction()
    db.session.execute(delete(IdempotentRequest).where(IdempotentRequest.id == record_id))


def purge(now=None) -> int:
    """Forget answers older than 24 hours (``flask cplan ...`` or a timer); returns how many."""
    ensure_write_transaction()
    result = db.session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.expires_at <= (now or utcnow()))
    )
    return result.rowcount
