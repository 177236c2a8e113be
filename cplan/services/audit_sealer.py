"""Sealing the audit trail: chaining committed events in batches, one checkpoint per batch.

``cplan.services.audit.record`` inserts events unsealed and takes no lock. ``seal`` chains them:
under a lock held only for one batch, it reads the chain's head and the committed unsealed
events in id order, gives each the next ``seq``, the head's hash as ``prev_hash`` and its own
``hash``, and writes an ``AuditCheckpoint`` (seq range, head hash) in the same transaction.

Transactions commit out of order: an event with id 7 can become visible after id 8 was sealed.
The chain order is therefore the order the sealer finds events in, not their ids: a batch
seals exactly the unsealed events its query sees, all of them committed, and id 7 joins the
next batch with a seq after 8's. Nothing waits for a gap to fill and no grace period guesses
when a transaction is done: an unsealed event is never skipped, since every batch takes the
oldest unsealed events first, and never sealed twice, since only the lock holder seals and its
UPDATE requires ``seq IS NULL`` (the unique ``seq`` is the backstop).

Who seals: ``flask cplan audit-sealer`` (``make sealer``), every ``AUDIT_SEALER_INTERVAL``
seconds, so an event is tamper-evident within about two seconds of its commit; and, when that
process is not running or falls behind, the writers themselves: a process that commits events
checks at most once in ``AUDIT_SEAL_AFTER_COMMIT`` seconds whether the oldest unsealed event
has waited twice that, and if so tries the lock once and seals (giving up at once when another
process holds it, so no request waits).

The lock: a transaction-scoped PostgreSQL advisory lock; on SQLite the sealing transaction's
BEGIN IMMEDIATE, which every writer takes anyway.

Signed checkpoints: after each batch commits, the head (last seq, its hash, the time) is
appended to a JSON-lines file outside the database (``AUDIT_CHECKPOINT_FILE``), signed with
HMAC-SHA256 under ``AUDIT_CHECKPOINT_KEY``, a key the database never holds; the sealer process
also writes the unchanged head once a minute. Someone who can rewrite the database (triggers
dropped) can recompute every hash, cut the newest events or empty the table, but cannot sign a
checkpoint: ``audit verify`` checks the chain against the latest signed one
(``latest_checkpoint``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.orm import Session

from cplan.extensions import WRITE_FIRST, db
from cplan.models.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    AuditEvent,
    canonical_time,
    event_hash,
)
from cplan.models.base import utcnow

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key of the chain: the bytes "cplan.au" read as a big-endian integer.
CHAIN_LOCK_KEY = 0x63706C616E2E6175
BATCH_SIZE = 1000
DEFAULT_DEADLINE = 120.0  # seconds an event may stay unsealed before ``audit verify`` fails
_UNSEALED = "cplan_audit_unsealed"


@dataclass(frozen=True)
class SealResult:
    """What one ``seal`` call did: events sealed, the chain's head after it, and whether it gave
    up because another sealer held the lock."""

    sealed: int
    head_seq: int
    head_hash: str
    busy: bool = False


class SealConflict(RuntimeError):
    """An event the batch meant to seal was sealed by someone else: the lock was not held."""


def seal(*, wait: bool = True, batch_size: int = BATCH_SIZE, max_batches: int | None = None):
    """Chain the committed unsealed events, batch after batch, each in a transaction of its own
    on a connection of its own (never the caller's session, which may hold uncommitted events).

    ``wait=False`` gives up at once when another sealer holds the lock (``busy``).
    """
    sealed, head = 0, (0, GENESIS_HASH)
    batches = 0
    while max_batches is None or batches < max_batches:
        with db.engine.connect().execution_options(**{WRITE_FIRST: True}) as connection:
            with connection.begin():
                if not _lock(connection, wait):
                    return SealResult(sealed, head[0], head[1], busy=True)
                count, head = _seal_batch(connection, batch_size)
        if count:
            write_checkpoint(head[0], head[1])
        sealed += count
        batches += 1
        if count < batch_size:
            break
    return SealResult(sealed, head[0], head[1])


def _lock(connection, wait: bool) -> bool:
    if connection.dialect.name != "postgresql":
        return True  # BEGIN IMMEDIATE already holds SQLite's one write lock
    if wait:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
        return True
    return bool(
        connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    )


def _seal_batch(connection, batch_size: int) -> tuple[int, tuple[int, str]]:
    table = AuditEvent.__table__
    head = connection.execute(
        select(table.c.seq, table.c.hash)
        .where(table.c.seq.is_not(None))
        .order_by(table.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    rows = connection.execute(
        select(table).where(table.c.seq.is_(None)).order_by(table.c.id).limit(batch_size)
    ).all()
    if not rows:
        return 0, (seq, prev_hash)
    first_seq = seq + 1
    chained = []
    for row in rows:
        seq += 1
        fields = {**row._mapping, "seq": seq, "prev_hash": prev_hash}
        fields["hash"] = event_hash(fields)
        chained.append(
            {"b_id": row.id, "b_seq": seq, "b_prev": prev_hash, "b_hash": fields["hash"]}
        )
        prev_hash = fields["hash"]
    if connection.dialect.name == "postgresql":
        # One statement for the batch: a row-by-row UPDATE cost the sealer more than the
        # inserts it seals.
        result = connection.execute(
            _SEAL_FROM_ARRAYS,
            {
                "ids": [item["b_id"] for item in chained],
                "seqs": [item["b_seq"] for item in chained],
                "prevs": [item["b_prev"] for item in chained],
                "hashes": [item["b_hash"] for item in chained],
            },
        )
    else:
        result = connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.seq.is_(None))
            .values(
                seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), hash=bindparam("b_hash")
            ),
            chained,
        )
    if result.rowcount >= 0 and result.rowcount != len(chained):
        raise SealConflict(f"sealed {result.rowcount} of {len(chained)} events")
    connection.execute(
        insert(AuditCheckpoint.__table__).values(
            sealed_at=utcnow(), first_seq=first_seq, last_seq=seq, head_hash=prev_hash
        )
    )
    return len(rows), (seq, prev_hash)


_SEAL_FROM_ARRAYS = text(
    "UPDATE audit_events AS event SET seq = chained.seq, prev_hash = chained.prev_hash,"
    " hash = chained.hash FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]),"
    " CAST(:prevs AS varchar[]), CAST(:hashes AS varchar[])) AS chained(id, seq, prev_hash, hash)"
    " WHERE event.id = chained.id AND event.seq IS NULL"
)


def seal_deadline() -> float:
    """Seconds an event may stay unsealed (``AUDIT_SEAL_DEADLINE``) before verify fails."""
    return float(current_app.config.get("AUDIT_SEAL_DEADLINE") or DEFAULT_DEADLINE)


# ---- sealing after commit ------------------------------------------------------------------

_last_attempt = 0.0


def note_unsealed(session: Session) -> None:
    """Mark ``session``'s transaction as one that recorded events (``audit.record``)."""
    session.info[_UNSEALED] = True


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_UNSEALED, None)


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    """A writer that committed events seals, at most once in ``AUDIT_SEAL_AFTER_COMMIT``
    seconds per process, when the oldest unsealed event has waited longer than twice that (the
    sealer process is not running or not keeping up), and only if no one else is sealing: one
    try of the lock, no waiting. With the sealer process running, requests do none of the
    sealing's work."""
    global _last_attempt
    if session.in_nested_transaction():
        # A savepoint was released (SQLAlchemy calls this for it too): the transaction around
        # it still holds its locks, and on SQLite a second connection would wait on them.
        return
    if not session.info.pop(_UNSEALED, False):
        return
    interval = current_app.config.get("AUDIT_SEAL_AFTER_COMMIT")
    if interval is None:
        return
    now = time.monotonic()
    if now - _last_attempt < float(interval):
        return
    _last_attempt = now
    try:
        if _oldest_unsealed_waited(2 * float(interval)):
            seal(wait=False)
    except Exception:  # the events stay unsealed for the next sealer; the request goes on
        logger.exception("sealing the audit trail after a commit failed")


def _oldest_unsealed_waited(seconds: float) -> bool:
    table = AuditEvent.__table__
    with db.engine.connect() as connection:
        oldest = connection.scalar(
            select(table.c.occurred_at).where(table.c.seq.is_(None)).order_by(table.c.id).limit(1)
        )
    return oldest is not None and oldest <= utcnow() - timedelta(seconds=seconds)


HEARTBEAT_SECONDS = 60.0


def run_sealer(*, interval: float, stop=lambda: False, on_batch=None) -> None:
    """Seal every ``interval`` seconds until ``stop()`` (``flask cplan audit-sealer``); sign the
    head at least once a minute even when nothing new came."""
    last_signed = 0.0
    while not stop():
        started = time.monotonic()
        try:
            result = seal(wait=True)
            if result.sealed:
                last_signed = started
                if on_batch is not None:
                    on_batch(result)
            elif started - last_signed >= HEARTBEAT_SECONDS and result.head_seq:
                write_checkpoint(result.head_seq, result.head_hash)
                last_signed = started
        except Exception:
            logger.exception("sealing the audit trail failed; trying again")
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


# ---- signed checkpoints ---------------------------------------------------------------------

CHECKPOINT_FILE_NAME = "audit-checkpoints-{database}.jsonl"
_TAIL_BYTES = 256 * 1024  # the latest checkpoints are near the end: read only this much


@dataclass(frozen=True)
class SignedCheckpoint:
    """A head of the chain as the sealer signed it: ``last_seq`` events, the last one hashing
    to ``head_hash``, at ``signed_at`` (UTC, ISO 8601)."""

    last_seq: int
    head_hash: str
    signed_at: str


def checkpoint_path() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    if configured:
        return Path(configured)
    # One file per database: an instance folder serving several databases in turn (the demo,
    # a test copy, a restored backup) must not hold one trail to another's checkpoints.
    database = str(current_app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    digest = hashlib.sha256(database.encode()).hexdigest()[:12]
    return Path(current_app.instance_path) / CHECKPOINT_FILE_NAME.format(database=digest)


def _key() -> bytes:
    return str(current_app.config["AUDIT_CHECKPOINT_KEY"]).encode()


def _key_id(key: bytes) -> str:
    """Names the key a line was signed with (a rotated key's lines are told apart, not
    mistaken for forgeries); reveals nothing of it."""
    return hashlib.sha256(b"cplan audit checkpoint key id:" + key).hexdigest()[:16]


def _mac(key: bytes, fields: dict) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def write_checkpoint(last_seq: int, head_hash: str) -> None:
    """Append the signed head to the checkpoint file (one ``write`` in append mode, so lines of
    several sealers on one machine never interleave)."""
    key = _key()
    fields = {
        "last_seq": last_seq,
        "head_hash": head_hash,
        "signed_at": canonical_time(utcnow()),
        "key_id": _key_id(key),
    }
    line = json.dumps({**fields, "mac": _mac(key, fields)}, sort_keys=True) + "\n"
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)


class ForgedCheckpoint(ValueError):
    """A line of the checkpoint file claims our key but its signature does not match."""


def latest_checkpoint() -> SignedCheckpoint | None:
    """The signed checkpoint with the highest ``last_seq`` among the file's last lines (None
    when there is no file or no line signed with the current key). Lines signed with another
    key (before a rotation) are skipped; a line claiming the current key with a wrong signature
    raises ``ForgedCheckpoint``."""
    path = checkpoint_path()
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - _TAIL_BYTES))
            tail = file.read()
    except FileNotFoundError:
        return None
    lines = tail.decode("utf-8", "replace").splitlines()
    if size > _TAIL_BYTES:
        lines = lines[1:]  # the first may be cut
    key = _key()
    key_id = _key_id(key)
    latest = None
    for line in lines:
        try:
            entry = json.loads(line)
            fields = {name: entry[name] for name in ("last_seq", "head_hash", "signed_at")}
            if entry.get("key_id") != key_id:
                continue
            valid = hmac.compare_digest(
                str(entry.get("mac", "")), _mac(key, {**fields, "key_id": key_id})
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise ForgedCheckpoint(
                f"{path.name} holds a line not signed by the checkpoint key: {line[:80]}"
            )
        checkpoint = SignedCheckpoint(
            int(fields["last_seq"]), str(fields["head_hash"]), str(fields["signed_at"])
        )
        if latest is None or checkpoint.last_seq > latest.last_seq:
            latest = checkpoint
    return latest
