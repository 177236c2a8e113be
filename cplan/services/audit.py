"""Writing, checking and reading the audit trail.

``record`` appends one event in the caller's transaction: it flushes and never commits, so the
event and the change it describes are committed together or not at all. ``verify_chain``
recomputes the hash chain from the first event to the last. ``events_in_scope`` and
``page_of_events`` serve the audit page.

Concurrency: ``record`` takes no lock. It inserts the event unsealed (no ``seq``, ``prev_hash``
or ``hash``), so audited transactions run side by side like any other inserts; the sealer
(``cplan.services.audit_sealer``) chains committed events in batches soon after, under a lock
held only for the batch. README "The audit trail at scale" tells the whole design.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, event, exists, func, insert, or_, select
from sqlalchemy.orm import Session, configure_mappers, make_transient_to_detached

from cplan.extensions import db, ensure_write_transaction
from cplan.models.accounts import Officer, Post
from cplan.models.audit import GENESIS_HASH, AuditEvent, AuditOutcome, event_hash
from cplan.models.base import utcnow
from cplan.models.geo import Unit
from cplan.services import audit_sealer
from cplan.services.errors import NotInScope
from cplan.services.phone import DEVANAGARI_DIGITS, log_safe
from cplan.services.principal import Principal

ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
TARGET_TYPE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_ACTION_LENGTH = 64

# Detail keys that name a secret. Checked as substrings of the lowercased key...
_SECRET_KEY_PARTS = ("otp", "password", "passwd", "secret", "token")
# ...as whole words (``pin`` would otherwise refuse ``mapping``)...
_SECRET_KEY_WORDS = frozenset({"pin", "passcode", "cookie"})
# ...and a bare "code" or a code qualified as a sign-in code. Official codes (lgd_code,
# station_code) are named for what they are and allowed.
_SECRET_CODE_QUALIFIERS = frozenset(
    {
        "setup",
        "verification",
        "recovery",
        "backup",
        "auth",
        "login",
        "reset",
        "sms",
        "access",
        "security",
    }
)
_KEY_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
# A full Indian mobile number once spaces and dashes are gone: ten digits starting 6-9,
# optionally after 0, 91 or +91. ASCII digits only (Devanagari digits are converted first).
_SEPARATORS = re.compile(r"[\s\-()]")
_FULL_MOBILE = re.compile(r"(?<![0-9])(?:\+?91|0)?[6-9][0-9]{9}(?![0-9])")


# ---- writing --------------------------------------------------------------------------------


def record(
    action: str,
    *,
    actor: Principal | None = None,
    outcome: str | AuditOutcome = AuditOutcome.SUCCESS,
    officer: Officer | None = None,
    post: Post | None = None,
    unit: Unit | None = None,
    target=None,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to the trail in the current transaction (flush, no commit).

    ``action`` is a dotted verb (``auth.sign_in``, ``roster.viewed``). ``actor`` is the
    principal who acted: the acting ``officer`` and ``post`` and the ``ip_address`` default to
    its own. Without an actor (a sign-in step, a command, a worker) they are what is given,
    else empty: nothing here looks at a request.
    ``target`` is the model instance acted on (its table name and id are kept, nothing else);
    or give ``target_type``/``target_id``. The event is filed under ``unit`` when given, else
    the target's unit when the target has one, else the acting post's unit.

    ``detail`` is a small JSON-able dict. It must not hold secrets or full mobile numbers: keys
    such as ``otp``/``code``/``password``/``token``/``secret`` and values that look like an
    Indian mobile number raise ``ValueError`` (mask with ``log_safe`` or ``redact_mobiles``).
    Citizens are referred to by id only, never by name or number.
    """
    if len(action) > MAX_ACTION_LENGTH or not ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"audit action must be a dotted lowercase verb, not {action!r}")
    ensure_write_transaction()  # a page's access record, after its reads (SQLite)
    outcome = AuditOutcome(outcome)
    detail_text = canonical_detail(detail)

    if actor is not None:
        officer = actor.officer if officer is None else officer
        post = actor.post if post is None else post
        ip_address = actor.ip_address if ip_address is None else ip_address
    if target is not None:
        target_type, target_id = _target_key(target)
    if target_type is not None and not TARGET_TYPE_PATTERN.fullmatch(target_type):
        raise ValueError(f"audit target_type must be a table name, not {target_type!r}")
    unit_path = _unit_path(unit, target, post)

    row = {
        "occurred_at": utcnow(),
        "action": action,
        "outcome": outcome,
        "officer_id": officer.id if officer else None,
        "officer_pno": officer.pno if officer else "",
        "post_id": post.id if post else None,
        "post_title": post.title_en if post else "",
        "unit_path": unit_path,
        "target_type": target_type,
        "target_id": target_id,
        "detail": detail_text,
        "ip_address": (ip_address or "")[:64],
    }
    return _append([row])[0]


def record_many(
    action: str, targets: list[tuple[object, dict | None]], *, actor: Principal | None = None
) -> list[AuditEvent]:
    """``record`` of one action on many targets (``(target, detail)`` pairs) by ``actor``, as
    one append: one flush. A file that corrects 4,000 places writes its 4,000 events in well
    under a second instead of a minute.
    The same rules apply to every detail; events are filed under each target's unit."""
    if len(action) > MAX_ACTION_LENGTH or not ACTION_PATTERN.fullmatch(action):
        raise ValueError(f"audit action must be a dotted lowercase verb, not {action!r}")
    if not targets:
        return []
    ensure_write_transaction()
    prepared = [(target, canonical_detail(detail)) for target, detail in targets]
    officer = actor.officer if actor is not None else None
    post = actor.post if actor is not None else None
    ip_address = actor.ip_address if actor is not None else ""
    events = []
    for target, detail_text in prepared:
        target_type, target_id = _target_key(target)
        events.append(
            {
                "occurred_at": utcnow(),
                "action": action,
                "outcome": AuditOutcome.SUCCESS,
                "officer_id": officer.id if officer else None,
                "officer_pno": officer.pno if officer else "",
                "post_id": post.id if post else None,
                "post_title": post.title_en if post else "",
                "unit_path": _unit_path(None, target, post),
                "target_type": target_type,
                "target_id": target_id,
                "detail": detail_text,
                "ip_address": (ip_address or "")[:64],
            }
        )
    return _append(events)


def _append(rows: list[dict]) -> list[AuditEvent]:
    """Insert unsealed events (one statement) and return them as loaded, unchanged objects.

    A Core INSERT ... RETURNING id rather than the ORM's unit of work, and the objects built
    from the row as a query would load them: every audited request pays for this, and the unit
    of work's bookkeeping took more CPU than the insert itself.
    """
    session = db.session()
    session.flush()  # what the caller changed is written first, as before any event
    if len(rows) == 1:
        ids = [session.execute(_INSERT_RETURNING_ID, rows[0]).scalar_one()]
    else:
        ids = list(session.execute(_INSERT_RETURNING_ID, rows).scalars())
    configure_mappers()  # once per process: what a constructor would have done
    new_instance = AuditEvent._sa_class_manager.new_instance
    events = []
    for row, event_id in zip(rows, ids, strict=True):
        event = new_instance()
        event.__dict__.update(row, id=event_id, seq=None, prev_hash=None, hash=None)
        make_transient_to_detached(event)  # every column loaded, nothing to flush
        session.add(event)
        events.append(event)
    audit_sealer.note_unsealed(session)
    session.info.setdefault(_PENDING, []).extend(
        (event_id, row["action"], str(row["outcome"]))
        for row, event_id in zip(rows, ids, strict=True)
    )
    return events


# What was written in the open transaction: (id, action, outcome) per event, handed to the
# listeners registered with ``on_commit`` when it commits (the request log lists the ids, the
# metrics count actions), forgotten when it rolls back.
_PENDING = "cplan_audit_events_pending"
_COMMIT_LISTENERS: list = []


def on_commit(listener):
    """Register ``listener(events)``, called after each commit that wrote audit events with
    their ``(id, action, outcome)``; a decorator."""
    _COMMIT_LISTENERS.append(listener)
    return listener


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    written = session.info.pop(_PENDING, None)
    if written:
        for listener in _COMMIT_LISTENERS:
            listener(written)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


_INSERT_RETURNING_ID = insert(AuditEvent.__table__).returning(
    AuditEvent.__table__.c.id, sort_by_parameter_order=True
)


def _target_key(target) -> tuple[str, int]:
    if not hasattr(target, "id") or not hasattr(target, "__table__"):
        raise ValueError(f"{type(target).__name__} has no integer id; give target_type/target_id")
    if target.id is None:
        db.session.flush()  # a new record gets its id
    return target.__table__.name, target.id


def _unit_path(unit: Unit | None, target, post: Post | None) -> str | None:
    if unit is not None:
        return unit.path
    if isinstance(target, Unit):
        return target.path
    target_path = getattr(target, "unit_path", None)  # places and what hangs off them
    if isinstance(target_path, str) and target_path:
        return target_path
    target_unit = getattr(target, "unit", None)  # posts, officers
    if isinstance(target_unit, Unit):
        return target_unit.path
    if post is not None and post.unit is not None:
        return post.unit.path
    return None


def canonical_detail(detail: dict | None) -> str:
    """``detail`` as canonical JSON (sorted keys, no spaces) after the safety checks."""
    if detail is None:
        return "{}"
    if not isinstance(detail, dict):
        raise ValueError("audit detail must be a dict")
    try:
        text_ = json.dumps(
            detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
        )
    except TypeError as error:
        raise ValueError(f"audit detail is not JSON-serialisable: {error}") from error
    _check_safe(json.loads(text_))
    return text_


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot go into an audit event")


def _check_safe(value, path: str = "detail") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key):
                raise ValueError(f"audit {path} may not hold a secret ({key!r})")
            if looks_like_full_mobile(key):
                raise ValueError(f"audit {path} key looks like a full mobile number; mask it")
            _check_safe(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            _check_safe(item, path)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        if looks_like_full_mobile(str(value)):
            raise ValueError(f"audit {path} looks like a full mobile number; mask it with log_safe")


def is_secret_key(key: str) -> bool:
    """True for detail keys that name an OTP, code, password, token or other secret."""
    lowered = key.lower()
    if any(part in lowered for part in _SECRET_KEY_PARTS):
        return True
    words = [word for word in _KEY_WORD_SPLIT.split(lowered) if word]
    if _SECRET_KEY_WORDS.intersection(words):
        return True
    if words == ["code"]:
        return True
    return bool(words and words[-1] == "code" and _SECRET_CODE_QUALIFIERS.intersection(words))


def looks_like_full_mobile(value: str) -> bool:
    """True when ``value`` contains what looks like a complete Indian mobile number."""
    compact = _SEPARATORS.sub("", value.translate(DEVANAGARI_DIGITS))
    return _FULL_MOBILE.search(compact) is not None


def redact_mobiles(value: str) -> str:
    """``value`` with every full mobile number masked, for text a person typed (a PNO field).

    When something is masked, spaces and dashes are removed from the whole text as well.
    """
    compact = _SEPARATORS.sub("", value.translate(DEVANAGARI_DIGITS))
    if _FULL_MOBILE.search(compact) is None:
        return value
    return _FULL_MOBILE.sub(lambda match: log_safe("+91" + match.group()[-10:]), compact)


# ---- checking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify_chain``; when not ``ok``, which event broke the chain and why."""

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    event_id: int | None = None
    occurred_at: datetime | None = None
    action: str = ""
    # Hash of the last intact event (the chain's head when ``ok``).
    last_hash: str = GENESIS_HASH
    # Events not sealed yet, all recorded within ``AUDIT_SEAL_DEADLINE`` when ``ok``.
    unsealed: int = 0
    # The latest signed checkpoint the chain was checked against (None: there is none yet).
    checkpoint: audit_sealer.SignedCheckpoint | None = None


def verify_chain(
    batch_size: int = 2000, *, deadline_seconds: float | None = None, restored_copy: bool = False
) -> VerifyResult:
    """Recompute every sealed event's hash in ``seq`` order, ``batch_size`` rows at a time, then
    check that every event not sealed yet was recorded within ``deadline_seconds`` (the
    ``AUDIT_SEAL_DEADLINE`` setting by default): an old unsealed event means the sealer is not
    running, or someone took sealed events out of the chain. Finally the chain must reach the
    latest signed checkpoint (``audit_sealer.latest_checkpoint``) with the hash it signed: a
    chain rewritten with recomputed hashes, cut short or emptied fails here.

    Outside a transaction each batch is read in its own short transaction on a separate
    connection, so a long check never holds SQLite's write lock for long; inside one (tests,
    a request) the session's connection is used so it cannot wait on itself.

    ``restored_copy``: the trail is a backup restored elsewhere (``flask cplan restore-check``),
    frozen when it was taken, so the checkpoints signed since then and its events that were
    still unsealed at the time say nothing against it: the chain is checked, and checked
    against the latest checkpoint where it reaches that far, but not required to reach it, and
    unsealed events are counted, not held to the deadline.
    """
    if restored_copy:
        deadline_seconds = float("inf")
    elif deadline_seconds is None:
        deadline_seconds = audit_sealer.seal_deadline()
    if db.session().in_transaction():
        return _verify(db.session.connection(), batch_size, False, deadline_seconds, restored_copy)
    with db.engine.connect() as connection:
        return _verify(connection, batch_size, True, deadline_seconds, restored_copy)


def _verify(
    connection,
    batch_size: int,
    own_transactions: bool,
    deadline_seconds: float,
    restored_copy: bool = False,
) -> VerifyResult:
    table = AuditEvent.__table__
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    last_seq = None
    try:
        checkpoint = audit_sealer.latest_checkpoint()
    except audit_sealer.ForgedCheckpoint as error:
        return VerifyResult(ok=False, checked=0, reason=str(error))

    def read(query):
        if own_transactions:
            with connection.begin():
                return connection.execute(query).all()
        return connection.execute(query).all()

    while True:
        # Keyset pagination on seq; the first batch has no lower bound so a seq tampered
        # below 1 still shows up.
        query = select(table).where(table.c.seq.is_not(None)).order_by(table.c.seq)
        query = query.limit(batch_size)
        if last_seq is not None:
            query = query.where(table.c.seq > last_seq)
        rows = read(query)
        if not rows:
            break
        for row in rows:
            fields = row._mapping
            reason = _break_reason(fields, expected_seq, prev_hash)
            if not reason and checkpoint and fields["seq"] == checkpoint.last_seq:
                if fields["hash"] != checkpoint.head_hash:
                    reason = (
                        f"hash differs from the checkpoint signed at {checkpoint.signed_at}: "
                        "the chain up to here was rewritten"
                    )
            if reason:
                return _broken(fields, reason, checked, prev_hash)
            checked += 1
            expected_seq += 1
            prev_hash = fields["hash"]
        last_seq = rows[-1].seq

    if checkpoint and checked < checkpoint.last_seq and not restored_copy:
        return VerifyResult(
            ok=False,
            checked=checked,
            first_broken_seq=checked + 1,
            reason=(
                f"missing: the checkpoint signed at {checkpoint.signed_at} covers "
                f"{checkpoint.last_seq} events, the chain holds {checked} "
                "(the newest events were deleted or the table emptied)"
            ),
            last_hash=prev_hash,
            checkpoint=checkpoint,
        )
    unsealed = read(
        select(func.count(), func.min(table.c.id)).select_from(table).where(table.c.seq.is_(None))
    )[0]
    if unsealed[0] and deadline_seconds != float("inf"):
        cutoff = datetime.now(UTC) - timedelta(seconds=deadline_seconds)
        late = read(
            select(table)
            .where(table.c.seq.is_(None), table.c.occurred_at < cutoff)
            .order_by(table.c.id)
            .limit(1)
        )
        if late:
            reason = (
                f"not sealed {deadline_seconds:g} s after it was recorded "
                "(is the sealer running? or was the event taken out of the chain?)"
            )
            return _broken(late[0]._mapping, reason, checked, prev_hash, unsealed=unsealed[0])
    return VerifyResult(
        ok=True,
        checked=checked,
        last_hash=prev_hash,
        unsealed=unsealed[0],
        checkpoint=checkpoint,
    )


def _broken(fields, reason: str, checked: int, prev_hash: str, unsealed: int = 0) -> VerifyResult:
    return VerifyResult(
        ok=False,
        checked=checked,
        first_broken_seq=fields["seq"],
        reason=reason,
        event_id=fields["id"],
        occurred_at=fields["occurred_at"],
        action=fields["action"],
        last_hash=prev_hash,
        unsealed=unsealed,
    )


def _break_reason(fields, expected_seq: int, prev_hash: str) -> str:
    if fields["seq"] != expected_seq:
        return f"sequence broken: expected seq {expected_seq}, found {fields['seq']}"
    if fields["prev_hash"] != prev_hash:
        return "prev_hash does not match the previous event's hash"
    if event_hash(fields) != fields["hash"]:
        return "contents do not match the stored hash"
    return ""


# ---- reading (the audit page) ---------------------------------------------------------------


def scope_condition(principal: Principal):
    """Events filed under the principal's subtree; the state also sees events filed under no
    unit."""
    unit = principal.unit
    condition = unit.covers(AuditEvent.unit_path)
    if unit.parent_id is None:
        condition = or_(condition, AuditEvent.unit_path.is_(None))
    return condition


def events_in_scope(
    principal: Principal,
    *,
    pno: str | None = None,
    post: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Events ``principal`` may see, filtered; ``since`` inclusive, ``until`` exclusive (UTC)."""
    query = select(AuditEvent).where(scope_condition(principal))
    if pno:
        query = query.where(AuditEvent.officer_pno == pno.strip().upper())
    if post:
        query = query.where(AuditEvent.post_title.icontains(post.strip(), autoescape=True))
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if outcome:
        query = query.where(AuditEvent.outcome == AuditOutcome(outcome))
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if until is not None:
        query = query.where(AuditEvent.occurred_at < until)
    return query


@dataclass
class EventPage:
    """One page of events, newest first, with the cursors of the pages either side."""

    events: list[AuditEvent]
    older: int | None  # pass as ``before=`` for the next older page
    newer: int | None  # pass as ``after=`` for the next newer page


def page_of_events(
    query: Select, *, before: int | None = None, after: int | None = None, per_page: int = 50
) -> EventPage:
    """A page of ``query``'s events by id cursor (no COUNT and no OFFSET: the trail only grows).

    By id, not seq: an event shows as soon as it is committed, before the sealer gives it its
    seq (ids follow the order events were recorded in; seqs, the order they were sealed in)."""
    key = AuditEvent.id
    if after is not None:
        rows = list(
            db.session.scalars(query.where(key > after).order_by(key.asc()).limit(per_page + 1))
        )
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        newer = rows[0].id if more_newer else None
        older = rows[-1].id if rows and _any(query.where(key < rows[-1].id)) else None
        return EventPage(rows, older=older, newer=newer)
    if before is not None:
        query_page = query.where(key < before)
    else:
        query_page = query
    rows = list(db.session.scalars(query_page.order_by(key.desc()).limit(per_page + 1)))
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    older = rows[-1].id if more_older else None
    newer = None
    if before is not None and rows and _any(query.where(key > rows[0].id)):
        newer = rows[0].id
    return EventPage(rows, older=older, newer=newer)


def _any(query: Select) -> bool:
    return bool(db.session.scalar(select(exists(query.with_only_columns(AuditEvent.id)))))


def get_in_scope(principal: Principal, event_id: int) -> AuditEvent:
    """The event with this id if ``principal`` may see it, else ``NotInScope``."""
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.id == event_id, scope_condition(principal))
    )
    if event is None:
        raise NotInScope()
    return event


def units_filed_under(events) -> dict[str, Unit]:
    """The unit named by each event's ``unit_path`` (its last id), by path, in one query.

    Looked up by id, not by path, so an event still names its unit after the unit has been
    moved elsewhere in the tree.
    """
    paths = {event.unit_path for event in events if event.unit_path}
    ids = {path: _last_id(path) for path in paths}
    wanted = {unit_id for unit_id in ids.values() if unit_id is not None}
    if not wanted:
        return {}
    units = {unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_(wanted)))}
    return {path: units[unit_id] for path, unit_id in ids.items() if unit_id in units}


def officers_of(events) -> dict[int, Officer]:
    """The officers who acted in ``events``, by id, in one query (the pages name them beside the
    PNO the trail recorded)."""
    wanted = {event.officer_id for event in events if event.officer_id is not None}
    if not wanted:
        return {}
    return {
        officer.id: officer
        for officer in db.session.scalars(select(Officer).where(Officer.id.in_(wanted)))
    }


def _last_id(path: str) -> int | None:
    parts = [part for part in path.strip("/").split("/") if part]
    return int(parts[-1]) if parts and parts[-1].isascii() and parts[-1].isdigit() else None
