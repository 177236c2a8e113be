"""Broadcasts: composing a DLT message for an audience, approving it, and opting out.

A station or district post composes from a registered template and a value per slot
(``cplan.services.dlt.build``: the text is checked against the registration before anything
else happens) for an audience of one station, optionally of one category: its contacts, or
those of chosen villages of it (``places``), of its villages graded sensitive in the election
active in its district (``sensitive``), or its contacts not verified within the verification
policy (``out_of_date``, the rule of ``cplan.services.drives``). The audience always leaves
out contacts that are not active, have opted out, were erased or have no number, contacts
marked in the election active in the district (candidates, agents...), and confidential
contacts unless the sender may see them (ASP and above).
``prepare`` answers the preview (final text, encoding, segments, audience size, total segments)
without changing anything; ``submit`` saves it.

A broadcast to more than ``APPROVAL_THRESHOLD`` recipients waits for an ASP or the SP office
(maker-checker: never the officer who composed it); the decision is compare-and-set on
``version``, so of two approvers at once exactly one decides. Nothing is sent between 21:00 and
09:00 IST unless the SP office marks the broadcast urgent: submitting or approving in those
hours is refused. A broadcast may be scheduled for a later time (``send_at``, UTC; the pages
show and take IST): the quiet hours then apply to that time, its messages are queued when it is
approved but no worker takes them before it, and until then its composer or an approver may
cancel it (its queued messages are deleted). Approval writes the messages to the outbox in the
same transaction (``cplan.services.outbox.enqueue``). Every step writes an audit event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select, update

from cplan.extensions import db
from cplan.formats import ist_day
from cplan.models.base import utcnow
from cplan.models.broadcasts import AudienceKind, Broadcast, BroadcastMessage, BroadcastStatus
from cplan.models.elections import SensitivePlace
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.messages import DltTemplate
from cplan.models.roster import Contact, ContactCategory, ContactStatus, OptOutChannel
from cplan.services import audit, dlt, drives, election_marks, elections, geo, outbox, roster
from cplan.services.broadcast_hours import is_quiet
from cplan.services.errors import (
    AlreadyDecided,
    Decided,
    InvalidTransition,
    NotAllowed,
    NotInScope,
    WorkflowError,
)
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

APPROVAL_THRESHOLD = 100
MAX_PLACES = 200
MAX_SCHEDULE_AHEAD = timedelta(days=30)


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: a station, some of its villages, its sensitive villages or its
    out-of-date contacts, optionally of one category."""

    station: Unit
    kind: AudienceKind = AudienceKind.PLACES
    place_ids: tuple[int, ...] = ()
    category: ContactCategory | None = None
    include_confidential: bool = False
    # The election active in the station's district, if any: its marked contacts (candidates,
    # agents, office-bearers, relatives) are left out.
    election_id: int | None = None
    # The verification policy's cutoff (``out_of_date``): verified before it, or never.
    cutoff: datetime | None = None


@dataclass(frozen=True)
class Draft:
    """A composed broadcast, checked, not yet saved: what the preview shows."""

    message: dlt.BuiltMessage
    audience: Audience
    audience_size: int
    urgent: bool
    send_at: datetime | None = None

    @property
    def total_segments(self) -> int:
        return self.message.segments * self.audience_size

    @property
    def needs_approval(self) -> bool:
        return self.audience_size > APPROVAL_THRESHOLD


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise NotAllowed(_l("Your post cannot do this."))


def _check_hours(urgent: bool, now: datetime) -> None:
    """Refuse a non-urgent broadcast that would go out (at ``now``) in the quiet hours."""
    if is_quiet(now) and not urgent:
        raise WorkflowError(
            _l(
                "No broadcast is sent between 21:00 and 09:00 IST unless the SP office marks "
                "it urgent."
            )
        )


# ---- the audience -----------------------------------------------------------------------------


def stations_in_scope(principal: Principal) -> list[Unit]:
    """The police stations a post may broadcast to: its own, or those of its subtree."""
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.STATION, principal.unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    )


def station_in_scope(principal: Principal, station_id: int | None) -> Unit:
    station = db.session.scalar(
        select(Unit).where(
            Unit.id == station_id,
            Unit.kind == UnitKind.STATION,
            principal.unit.covers(Unit.path),
        )
    )
    if station is None:
        raise NotInScope()
    return station


def villages_of(station: Unit) -> list[Place]:
    """The places a station answers for, by name."""
    return list(
        db.session.scalars(
            select(Place).where(Place.station_id == station.id).order_by(Place.name_en)
        )
    )


def audience_condition(audience: Audience):
    """SQL condition on ``Contact``: the contacts a broadcast to ``audience`` reaches."""
    conditions = [
        Contact.status == ContactStatus.ACTIVE,
        Contact.mobile.is_not(None),
        Contact.erased_at.is_(None),
        Contact.opted_out_at.is_(None),
        audience.station.covers(Contact.unit_path),
    ]
    if audience.place_ids:
        conditions.append(Contact.place_id.in_(audience.place_ids))
    if audience.kind == AudienceKind.SENSITIVE:
        # No election active: no place is sensitive, so nobody (never the whole station).
        conditions.append(
            Contact.place_id.in_(
                select(SensitivePlace.place_id).where(
                    SensitivePlace.election_id == audience.election_id,
                    audience.station.covers(SensitivePlace.unit_path),
                )
            )
        )
    if audience.kind == AudienceKind.OUT_OF_DATE:
        conditions.append(drives.out_of_date_condition(audience.cutoff or drives.policy_cutoff()))
    if audience.category is not None:
        conditions.append(Contact.category == audience.category)
    if not audience.include_confidential:
        conditions.append(Contact.confidential.is_(False))
    if audience.election_id is not None:
        conditions.append(election_marks.neutral_condition(audience.election_id))
    return and_(*conditions)


def active_election_id(station: Unit, now: datetime) -> int | None:
    """The election active in the station's district on the IST day of ``now``, if any."""
    district = geo.district_of(station)
    phase = elections.active_phase(district.id, ist_day(now)) if district else None
    return phase.election_id if phase else None


def audience_size(audience: Audience) -> int:
    return db.session.scalar(select(func.count(Contact.id)).where(audience_condition(audience)))


def audience_of(broadcast: Broadcast, now: datetime) -> Audience:
    """The audience a saved broadcast reaches at ``now`` (the election then active counts)."""
    return Audience(
        station=broadcast.station,
        kind=AudienceKind(broadcast.audience or AudienceKind.PLACES),
        place_ids=tuple(broadcast.places),
        category=ContactCategory(broadcast.category) if broadcast.category else None,
        include_confidential=broadcast.include_confidential,
        election_id=active_election_id(broadcast.station, now),
        cutoff=drives.policy_cutoff(now),
    )


# ---- composing --------------------------------------------------------------------------------


def template_for_broadcast(template_id: int | None) -> DltTemplate:
    template = db.session.get(DltTemplate, template_id) if template_id else None
    if template is None or template not in dlt.broadcast_templates():
        raise WorkflowError(_l("Choose a registered template."))
    return template


def prepare(
    principal: Principal,
    *,
    template_id: int | None,
    values,
    station_id: int | None,
    place_ids=(),
    category: str | None = None,
    urgent: bool = False,
    audience: str | None = None,
    send_at: datetime | None = None,
    now: datetime | None = None,
) -> Draft:
    """Check a composition and work out its preview; changes nothing."""
    _require(principal, Permission.SEND_BROADCAST)
    now = now or utcnow()
    station = station_in_scope(principal, station_id)
    try:
        kind = AudienceKind(audience or AudienceKind.PLACES)
    except ValueError:
        raise WorkflowError(_l("Choose who receives the broadcast.")) from None
    place_ids = tuple(sorted({int(place_id) for place_id in place_ids or ()}))
    if kind != AudienceKind.PLACES:
        place_ids = ()  # villages are chosen only for a broadcast to villages
    if send_at is not None:
        if send_at.tzinfo is None:
            raise ValueError("send_at must be timezone-aware")
        if send_at <= now:
            raise WorkflowError(_l("Choose a time to send at that is still to come."))
        if send_at > now + MAX_SCHEDULE_AHEAD:
            raise WorkflowError(_l("A broadcast can be scheduled at most 30 days ahead."))
    if len(place_ids) > MAX_PLACES:
        raise WorkflowError(_l("Choose at most %(n)d villages.", n=MAX_PLACES))
    if place_ids:
        found = db.session.scalar(
            select(func.count(Place.id)).where(
                Place.id.in_(place_ids), Place.station_id == station.id
            )
        )
        if found != len(place_ids):
            raise NotInScope()
    if urgent and not principal.can(Permission.URGENT_BROADCAST):
        raise NotAllowed(_l("Only the SP office can mark a broadcast urgent."))
    template = template_for_broadcast(template_id)
    given = ["" if value is None else str(value) for value in values]
    while len(given) > len(template.types) and not given[-1].strip():
        given.pop()  # the form's unused value fields
    given += [""] * (len(template.types) - len(given))
    message = dlt.build(template, given)
    election_id = active_election_id(station, send_at or now)
    if kind == AudienceKind.SENSITIVE and election_id is None:
        raise WorkflowError(
            _l("No election is active in this district, so none of its places is sensitive.")
        )
    audience = Audience(
        station=station,
        kind=kind,
        place_ids=place_ids,
        category=ContactCategory(category) if category else None,
        include_confidential=principal.can(Permission.VIEW_CONFIDENTIAL),
        election_id=election_id,
        cutoff=drives.policy_cutoff(now),
    )
    return Draft(
        message=message,
        audience=audience,
        audience_size=audience_size(audience),
        urgent=urgent,
        send_at=send_at,
    )


def submit(principal: Principal, draft: Draft, *, now: datetime | None = None) -> Broadcast:
    """Save a prepared broadcast: queued at once when small enough, else awaiting approval."""
    now = now or utcnow()
    if draft.audience_size == 0:
        raise WorkflowError(_l("Nobody in this audience can receive a broadcast."))
    if draft.send_at is not None and draft.send_at <= now:
        raise WorkflowError(_l("Choose a time to send at that is still to come."))
    _check_hours(draft.urgent, draft.send_at or now)
    dlt.check_matches(draft.message.template, draft.message.text)
    broadcast = Broadcast(
        station=draft.audience.station,
        unit_path=draft.audience.station.path,
        audience=draft.audience.kind.value,
        send_at=draft.send_at,
        place_ids=json.dumps(list(draft.audience.place_ids)),
        category=draft.audience.category.value if draft.audience.category else None,
        include_confidential=draft.audience.include_confidential,
        template=draft.message.template,
        slot_values=json.dumps(list(draft.message.values), ensure_ascii=False),
        body=draft.message.text,
        encoding=draft.message.encoding,
        segments=draft.message.segments,
        audience_size=draft.audience_size,
        status=(
            BroadcastStatus.AWAITING_APPROVAL if draft.needs_approval else BroadcastStatus.APPROVED
        ),
        urgent=draft.urgent,
        urgent_by_officer_id=principal.officer.id if draft.urgent else None,
        created_at=now,
        created_by_officer_id=principal.officer.id,
        created_by_post_id=principal.post.id,
    )
    db.session.add(broadcast)
    db.session.flush()
    audit.record(
        "broadcast.submitted",
        actor=principal,
        target=broadcast,
        unit=broadcast.station,
        detail={
            "template": draft.message.template.template_id,
            "audience": draft.audience_size,
            "audience_kind": draft.audience.kind.value,
            "send_at": _iso(draft.send_at),
            "segments": draft.message.segments,
            "urgent": draft.urgent,
            "needs_approval": draft.needs_approval,
        },
    )
    if not draft.needs_approval:
        _queue(principal, broadcast, now)
    return broadcast


def _queue(principal: Principal, broadcast: Broadcast, now: datetime) -> None:
    # A scheduled broadcast's audience is the one of its time (the election active then).
    due = max(broadcast.send_at or now, now)
    count = outbox.enqueue(
        broadcast, audience_condition(audience_of(broadcast, due)), now=now, due=due
    )
    broadcast.queued_at = now
    broadcast.queued_count = count
    db.session.flush()
    audit.record(
        "broadcast.queued",
        actor=principal,
        target=broadcast,
        unit=broadcast.station,
        detail={"messages": count},
    )


# ---- deciding ---------------------------------------------------------------------------------


def decide(
    principal: Principal,
    broadcast_id: int,
    seen_version: int,
    action: str,
    *,
    note: str = "",
    urgent: bool = False,
    now: datetime | None = None,
) -> Broadcast:
    """Approve (and queue) or reject a broadcast awaiting approval, exactly once."""
    _require(principal, Permission.APPROVE_BROADCAST)
    broadcast = get_visible(principal, broadcast_id)
    if action not in ("approve", "reject"):
        raise InvalidTransition(action)
    if broadcast.created_by_officer_id == principal.officer.id:
        raise NotAllowed(_l("You composed this broadcast, so someone else must decide it."))
    if urgent and not principal.can(Permission.URGENT_BROADCAST):
        raise NotAllowed(_l("Only the SP office can mark a broadcast urgent."))
    note = (note or "").strip()[:1000]
    if action == "reject" and len(note) < 3:
        raise WorkflowError(_l("Say why in the note."))
    if broadcast.status != BroadcastStatus.AWAITING_APPROVAL:
        raise _already_decided(broadcast)
    now = now or utcnow()
    urgent = urgent or broadcast.urgent
    if action == "approve":
        # Scheduled: the quiet hours apply to the time it is to go, not to the approval.
        _check_hours(urgent, max(broadcast.send_at or now, now))
    values = {
        "status": (BroadcastStatus.APPROVED if action == "approve" else BroadcastStatus.REJECTED),
        "version": Broadcast.version + 1,
        "decided_at": now,
        "decided_by_officer_id": principal.officer.id,
        "decision_note": note,
    }
    if urgent and not broadcast.urgent:
        values.update(urgent=True, urgent_by_officer_id=principal.officer.id)
    result = db.session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast.id,
            Broadcast.status == BroadcastStatus.AWAITING_APPROVAL,
            Broadcast.version == seen_version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _already_decided(broadcast)
    db.session.refresh(broadcast)
    audit.record(
        f"broadcast.{'approved' if action == 'approve' else 'rejected'}",
        actor=principal,
        target=broadcast,
        unit=broadcast.station,
        detail={"urgent": broadcast.urgent},
    )
    if action == "approve":
        _queue(principal, broadcast, now)
    return broadcast


def may_cancel(
    principal: Principal,
    broadcast: Broadcast,
    now: datetime | None = None,
    counts: dict | None = None,
) -> bool:
    """Whether the page offers cancelling: awaiting approval, or scheduled and not yet due with
    every message still queued (``counts`` by delivery state, when the caller has them); by its
    composer or a post that approves broadcasts."""
    now = now or utcnow()
    pending = broadcast.status == BroadcastStatus.AWAITING_APPROVAL or (
        broadcast.status == BroadcastStatus.APPROVED
        and broadcast.send_at is not None
        and broadcast.send_at > now
    )
    untouched = counts is None or sum(counts.values()) == counts.get(outbox.DeliveryState.QUEUED, 0)
    return (
        pending
        and untouched
        and (
            broadcast.created_by_officer_id == principal.officer.id
            or principal.can(Permission.APPROVE_BROADCAST)
        )
    )


def cancel(
    principal: Principal, broadcast_id: int, seen_version: int, *, now: datetime | None = None
) -> Broadcast:
    """Cancel a broadcast before any message of it has gone: awaiting approval, or scheduled
    and not yet due. Its queued messages are deleted; compare-and-set on ``version``."""
    now = now or utcnow()
    broadcast = get_visible(principal, broadcast_id)
    if broadcast.created_by_officer_id != principal.officer.id and not principal.can(
        Permission.APPROVE_BROADCAST
    ):
        raise NotAllowed(_l("Only its composer or an approver can cancel a broadcast."))
    if not may_cancel(principal, broadcast, now):
        raise WorkflowError(_l("This broadcast can no longer be cancelled: it has started."))
    result = db.session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast.id,
            Broadcast.status == broadcast.status,
            Broadcast.version == seen_version,
        )
        .values(
            status=BroadcastStatus.CANCELLED,
            version=Broadcast.version + 1,
            cancelled_at=now,
            cancelled_by_officer_id=principal.officer.id,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _already_decided(broadcast)
    deleted = db.session.execute(
        delete(BroadcastMessage)
        .where(
            BroadcastMessage.broadcast_id == broadcast.id,
            BroadcastMessage.state == outbox.DeliveryState.QUEUED,
            BroadcastMessage.attempts == 0,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    started = db.session.scalar(
        select(func.count()).where(BroadcastMessage.broadcast_id == broadcast.id)
    )
    if started:
        # A worker whose clock ran ahead took some already: the caller rolls all of it back.
        raise WorkflowError(_l("This broadcast can no longer be cancelled: it has started."))
    db.session.refresh(broadcast)
    audit.record(
        "broadcast.cancelled",
        actor=principal,
        target=broadcast,
        unit=broadcast.station,
        detail={"messages": deleted, "send_at": _iso(broadcast.send_at)},
    )
    return broadcast


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _already_decided(broadcast: Broadcast) -> AlreadyDecided:
    db.session.refresh(broadcast)
    who = broadcast.decided_by.name if broadcast.decided_by else "?"
    return AlreadyDecided(
        f"already decided by {who} at {broadcast.decided_at}",
        decided=Decided(who, broadcast.decided_at, broadcast.decided_by),
    )


# ---- reading ----------------------------------------------------------------------------------


def get_visible(principal: Principal, broadcast_id: int) -> Broadcast:
    """A broadcast of the principal's subtree, or ``NotInScope``."""
    _require(principal, Permission.SEND_BROADCAST)
    broadcast = db.session.scalar(
        select(Broadcast).where(
            Broadcast.id == broadcast_id, principal.unit.covers(Broadcast.unit_path)
        )
    )
    if broadcast is None:
        raise NotInScope()
    return broadcast


def in_scope(principal: Principal, limit: int = 50) -> list[Broadcast]:
    """The newest broadcasts of the principal's subtree, those awaiting approval first."""
    _require(principal, Permission.SEND_BROADCAST)
    awaiting = Broadcast.status == BroadcastStatus.AWAITING_APPROVAL
    return list(
        db.session.scalars(
            select(Broadcast)
            .where(principal.unit.covers(Broadcast.unit_path))
            .order_by(awaiting.desc(), Broadcast.id.desc())
            .limit(limit)
        )
    )


# ---- opting out -------------------------------------------------------------------------------


def opt_out(
    principal: Principal, contact_id: int, channel: str, *, now: datetime | None = None
) -> Contact:
    """Record that a contact asked to receive no broadcasts (who recorded it, when, how)."""
    _require(principal, Permission.RECORD_OPT_OUT)
    contact = roster.get_visible_contact(principal, contact_id)
    try:
        channel = OptOutChannel(channel)
    except ValueError:
        raise WorkflowError(_l("Say how the citizen asked.")) from None
    if contact.opted_out_at is not None:
        raise WorkflowError(_l("This contact has already opted out of broadcasts."))
    contact.opted_out_at = now or utcnow()
    contact.opted_out_by_officer_id = principal.officer.id
    contact.opt_out_channel = channel.value
    db.session.flush()
    audit.record(
        "roster.opted_out",
        actor=principal,
        target=contact,
        unit=contact.place.station,
        detail={"channel": channel.value},
    )
    return contact


# Replies that mean "send me no more", compared case-folded without punctuation: a reply whose
# first word is one of STOP_FIRST_WORDS (``STOP``, ``Stop UPPCPL``, ``बंद``, ``बंद करें``), or
# that is one of STOP_REPLIES as a whole (words that begin other sentences too: "cancel the
# meeting?" opts nobody out).
STOP_FIRST_WORDS = frozenset({"stop", "unsubscribe", "बंद", "बन्द"})
STOP_REPLIES = frozenset(
    {
        "stop all",
        "stopall",
        "unsub",
        "optout",
        "opt out",
        "end",
        "quit",
        "cancel",
        "band",
        "band karo",
        "band karein",
        "रोकें",
        "रोको",
        "रोक दें",
        "मत भेजो",
        "मत भेजें",
        "नहीं चाहिए",
    }
)
_REPLY_PUNCTUATION = str.maketrans({mark: " " for mark in ".,!?;:'\"()[]-_।|/"})


def is_stop_reply(text: str) -> bool:
    """True when an SMS reply asks for no more broadcasts (STOP, बंद, बंद करें, Stop UPPCPL...)."""
    words = (text or "")[:160].translate(_REPLY_PUNCTUATION).casefold().split()
    if not words:
        return False
    return words[0] in STOP_FIRST_WORDS or " ".join(words) in STOP_REPLIES


def opt_out_by_reply(
    number: str,
    text: str,
    *,
    gateway: str,
    reply_id: str = "",
    now: datetime | None = None,
) -> str:
    """A citizen replied to a broadcast: when the reply means STOP, every contact with that
    number (main or alternate) is opted out, recorded as "by SMS reply" with the gateway's
    reply id and the time; nobody recorded it, so no officer is named.

    Returns ``opted_out``, ``already`` (every such contact had opted out: a reply forwarded
    twice changes nothing), ``not_stop``, ``unknown`` (no contact has that number) or
    ``bad_number``.
    """
    from cplan.services.phone import InvalidMobile, normalise_mobile

    try:
        mobile = normalise_mobile(str(number or ""))
    except InvalidMobile:
        return "bad_number"
    if not is_stop_reply(text):
        return "not_stop"
    now = now or utcnow()
    contacts = list(
        db.session.scalars(
            select(Contact)
            .where(
                (Contact.mobile == mobile) | (Contact.mobile_alt == mobile),
                Contact.erased_at.is_(None),
            )
            .order_by(Contact.id)
        )
    )
    if not contacts:
        return "unknown"
    waiting = [contact for contact in contacts if contact.opted_out_at is None]
    if not waiting:
        return "already"
    for contact in waiting:
        contact.opted_out_at = now
        contact.opted_out_by_officer_id = None
        contact.opt_out_channel = OptOutChannel.SMS_REPLY.value
    db.session.flush()
    audit.record_many(
        "roster.opted_out",
        [
            (
                contact,
                {
                    "channel": OptOutChannel.SMS_REPLY.value,
                    "gateway": gateway[:16],
                    "reply": str(reply_id or "")[:64],
                },
            )
            for contact in waiting
        ],
    )
    return "opted_out"


def opt_in(principal: Principal, contact_id: int) -> Contact:
    """Undo an opt-out (the citizen asked to receive broadcasts again)."""
    _require(principal, Permission.RECORD_OPT_OUT)
    contact = roster.get_visible_contact(principal, contact_id)
    if contact.opted_out_at is None:
        raise WorkflowError(_l("This contact receives broadcasts already."))
    contact.opted_out_at = None
    contact.opted_out_by_officer_id = None
    contact.opt_out_channel = ""
    db.session.flush()
    audit.record("roster.opted_in", actor=principal, target=contact, unit=contact.place.station)
    return contact
