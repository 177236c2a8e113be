"""The enrolment workflow (maker-checker): decisions on enrolments, corrections and removals.

States and the transitions between them live in ``TRANSITIONS``; anything else raises
``InvalidTransition``. Every decision is a compare-and-set UPDATE (``WHERE status = 'pending'
AND version = :seen``): when two officers decide the same record at once exactly one UPDATE
matches, and the other gets ``AlreadyDecided`` naming who decided it and when. The officer who
enrolled or proposed something can never decide it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from cplan.extensions import db
from cplan.models.accounts import Officer
from cplan.models.audit import AuditEvent, AuditOutcome
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import (
    Contact,
    ContactProposal,
    ContactStatus,
    InactiveReason,
    ProposalKind,
    ProposalStatus,
)
from cplan.services import audit, roster, search
from cplan.services.errors import (
    AlreadyDecided,
    Decided,
    DomainError,
    InvalidTransition,
    NotAllowed,
    NotInScope,
    WorkflowError,
)
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

# status -> the statuses it may move to, and by which action.
TRANSITIONS: dict[ContactStatus, dict[str, ContactStatus]] = {
    ContactStatus.PENDING: {"approve": ContactStatus.ACTIVE, "reject": ContactStatus.REJECTED},
    ContactStatus.REJECTED: {"resubmit": ContactStatus.PENDING},
    ContactStatus.ACTIVE: {"remove": ContactStatus.INACTIVE},
    ContactStatus.INACTIVE: {},
}

REJECT_REASONS = ("incomplete", "wrong_number", "not_suitable", "duplicate", "other")
REJECT_REASON_LABELS = {
    "incomplete": _l("Incomplete details"),
    "wrong_number": _l("Wrong number"),
    "not_suitable": _l("Not suitable"),
    "duplicate": _l("Duplicate"),
    "other": _l("Other"),
}
# Fields a correction may change.
CORRECTABLE = ("name", "name_other", "mobile", "mobile_alt", "whatsapp", "category", "place_id")


def target_status(current: ContactStatus, action: str) -> ContactStatus:
    """The status ``action`` leads to from ``current``, or InvalidTransition."""
    allowed = TRANSITIONS[current]
    if action not in allowed:
        raise InvalidTransition(f"cannot {action} a {current.value} contact")
    return allowed[action]


def check_resubmittable(contact: Contact) -> None:
    """Only a rejected enrolment can be corrected and sent again (else ``InvalidTransition``)."""
    if "resubmit" not in TRANSITIONS[contact.status]:
        raise InvalidTransition(
            f"cannot resubmit a {contact.status.value} contact",
            refusal=_l("Only a rejected enrolment can be sent again."),
        )


def check_changeable(contact: Contact) -> None:
    """Only a contact in the roster (active) can be corrected, moved or proposed for removal
    (else ``InvalidTransition``)."""
    if contact.status != ContactStatus.ACTIVE:
        raise InvalidTransition(
            f"only active contacts can be changed, not a {contact.status.value} one",
            refusal=_l("Only contacts in the roster (active) can be changed."),
        )


def check_erasable(contact: Contact) -> None:
    """A contact's personal data is erased once (else ``WorkflowError``)."""
    if contact.erased_at is not None:
        raise WorkflowError(_l("This contact's personal data has already been erased."))


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise NotAllowed(_l("Your post cannot do this."))


def _visible(principal: Principal, contact_id: int) -> Contact:
    return roster.get_visible_contact(principal, contact_id)


def _already_decided(contact: Contact) -> AlreadyDecided:
    db.session.refresh(contact)
    who = contact.decided_by.name if contact.decided_by else "?"
    return AlreadyDecided(
        f"already decided by {who} at {contact.decided_at}",
        decided=Decided(who, contact.decided_at, contact.decided_by),
    )


def _check_reason(reason: str, note: str) -> tuple[str, str]:
    if reason not in REJECT_REASONS:
        raise WorkflowError(_l("Choose a reason from the list."))
    note = (note or "").strip()
    if reason == "other" and len(note) < 3:
        raise WorkflowError(_l("Say why in the note."))
    return reason, note[:1000]


def decide_enrolment(
    principal: Principal,
    contact_id: int,
    seen_version: int,
    action: str,
    reason: str = "",
    note: str = "",
    *,
    now: datetime | None = None,
) -> Contact:
    """Approve or reject a pending enrolment, exactly once."""
    _require(principal, Permission.APPROVE_ENROLMENT)
    contact = _visible(principal, contact_id)
    if action not in ("approve", "reject"):
        raise InvalidTransition(action)
    if contact.enrolled_by_officer_id == principal.officer.id:
        raise NotAllowed(_l("You enrolled this contact, so someone else must decide it."))
    if action == "reject":
        reason, note = _check_reason(reason, note)
    if contact.status != ContactStatus.PENDING:
        if contact.decided_at is not None:
            raise _already_decided(contact)
        target_status(contact.status, action)  # raises InvalidTransition
    new_status = target_status(ContactStatus.PENDING, action)
    now = now or utcnow()
    result = db.session.execute(
        update(Contact)
        .where(
            Contact.id == contact.id,
            Contact.status == ContactStatus.PENDING,
            Contact.version == seen_version,
        )
        .values(
            status=new_status,
            version=Contact.version + 1,
            decided_at=now,
            decided_by_officer_id=principal.officer.id,
            decision_reason=reason,
            decision_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _already_decided(contact)
    db.session.refresh(contact)
    audit.record(
        f"enrolment.{'approved' if action == 'approve' else 'rejected'}",
        actor=principal,
        target=contact,
        unit=contact.place.station,
        detail={"reason": reason} if reason else None,
    )
    return contact


@dataclass
class BulkOutcome:
    approved: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    # The refusal behind each skip, by contact id (pages word it for the reader).
    errors: dict[int, Exception] = field(default_factory=dict)


class BulkRefused(DomainError):
    """A bulk approval named contacts that do not exist or lie outside the post's scope
    (``unseen``, their ids): the request is refused whole and nothing is decided."""

    def __init__(self, message, unseen: list[int]):
        super().__init__(message)
        self.unseen = unseen


def check_bulk_ids(principal: Principal, ids) -> None:
    """Raise ``BulkRefused`` unless every id is a contact ``principal`` may see (one query).

    A bulk request naming a record the post cannot see is no slip of the hand (the queue only
    lists what it may see): deciding the rest would hide the attempt, so nothing is decided.
    """
    ids = sorted(set(ids))
    visible = (
        set(
            db.session.scalars(
                select(Contact.id).where(Contact.id.in_(ids), roster.visible_condition(principal))
            )
        )
        if ids
        else set()
    )
    unseen = [contact_id for contact_id in ids if contact_id not in visible]
    if unseen:
        raise BulkRefused(
            _l(
                "Nothing was approved: %(count)s of the ticked enrolments cannot be found in your "
                "area. Go back to the queue and tick them again.",
                count=len(unseen),
            ),
            unseen,
        )


def record_bulk_refusal(principal: Principal, error: BulkRefused, asked: int) -> None:
    """The refused bulk approval in the audit trail (after the caller rolled back): how many
    enrolments were asked for and the ids that were not visible."""
    audit.record(
        "enrolment.bulk_refused",
        actor=principal,
        outcome=AuditOutcome.DENIED,
        detail={"asked": asked, "unseen_ids": error.unseen[:100], "unseen": len(error.unseen)},
    )


def bulk_approve(principal: Principal, seen: dict[int, int]) -> BulkOutcome:
    """Approve many enrolments (id -> the version the officer saw); each is decided once.

    Refused whole (``BulkRefused``, nothing decided) when any id is unknown or out of scope.
    Otherwise enrolments someone else decided meanwhile, or that this officer enrolled, are
    skipped and reported, never decided twice.
    """
    _require(principal, Permission.APPROVE_ENROLMENT)
    check_bulk_ids(principal, seen)
    outcome = BulkOutcome()
    for contact_id, version in sorted(seen.items()):
        try:
            with db.session.begin_nested():
                decide_enrolment(principal, contact_id, version, "approve")
            outcome.approved.append(contact_id)
        except (AlreadyDecided, WorkflowError, InvalidTransition, NotInScope) as error:
            outcome.skipped.append((contact_id, str(error)))
            outcome.errors[contact_id] = error
    return outcome


def resubmit(principal: Principal, contact_id: int, details: roster.ContactDetails) -> Contact:
    """Correct a rejected enrolment and send it again; both rounds stay in the history."""
    _require(principal, Permission.ENROL_CONTACT)
    contact = _visible(principal, contact_id)
    check_resubmittable(contact)
    data = roster.clean(details)
    result = db.session.execute(
        update(Contact)
        .where(
            Contact.id == contact.id,
            Contact.status == ContactStatus.REJECTED,
            Contact.version == contact.version,
        )
        .values(
            status=ContactStatus.PENDING,
            version=Contact.version + 1,
            decided_at=None,
            decided_by_officer_id=None,
            decision_reason="",
            decision_note="",
            enrolled_by_officer_id=principal.officer.id,
            enrolled_by_post_id=principal.post.id,
            **{k: v for k, v in vars(data).items()},
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise _already_decided(contact)
    db.session.refresh(contact)
    roster.index_contact(contact)
    audit.record(
        "enrolment.resubmitted", actor=principal, target=contact, unit=contact.place.station
    )
    return contact


# ---- corrections and removals ---------------------------------------------------------------


def _open_proposal(contact: Contact) -> ContactProposal | None:
    return db.session.scalar(
        select(ContactProposal).where(
            ContactProposal.contact_id == contact.id,
            ContactProposal.status == ProposalStatus.PENDING,
        )
    )


def propose_correction(
    principal: Principal, contact_id: int, details: roster.ContactDetails
) -> ContactProposal:
    """Station staff propose new values for an active contact; the roster keeps the old ones until
    approved."""
    _require(principal, Permission.PROPOSE_CORRECTION)
    contact = _visible(principal, contact_id)
    check_changeable(contact)
    if _open_proposal(contact) is not None:
        raise WorkflowError(_l("A change to this contact is already waiting for a decision."))
    data = roster.clean(details)
    changes = {}
    for name in ("name", "name_other", "mobile", "mobile_alt", "whatsapp"):
        if getattr(data, name) != getattr(contact, name):
            changes[name] = getattr(data, name)
    if data.name_other_generated != contact.name_other_generated:
        # The officer checked the computer's spelling (or left the field to the computer again):
        # the same letters may now count as checked, which the approver sees as a change.
        changes["name_other"] = data.name_other
        changes["name_other_generated"] = data.name_other_generated
    if data.category != contact.category:
        changes["category"] = data.category.value
    if not changes:
        raise WorkflowError(_l("Nothing was changed."))
    return _add_proposal(principal, contact, ProposalKind.CORRECTION, changes=changes)


def propose_move(principal: Principal, contact_id: int, place: Place) -> ContactProposal:
    """Propose moving an active contact to another village of the same station."""
    _require(principal, Permission.PROPOSE_CORRECTION)
    contact = _visible(principal, contact_id)
    check_changeable(contact)
    if (
        place.station_id is None
        or place.station_id != contact.place.station_id
        or place.id == contact.place_id
    ):
        raise WorkflowError(_l("Choose another village of the same police station."))
    if _open_proposal(contact) is not None:
        raise WorkflowError(_l("A change to this contact is already waiting for a decision."))
    return _add_proposal(
        principal, contact, ProposalKind.CORRECTION, changes={"place_id": place.id}
    )


def propose_removal(
    principal: Principal, contact_id: int, reason: InactiveReason, note: str
) -> ContactProposal:
    """Propose marking an active contact inactive (moved, deceased, unreachable...)."""
    _require(principal, Permission.PROPOSE_CORRECTION)
    contact = _visible(principal, contact_id)
    check_changeable(contact)
    if _open_proposal(contact) is not None:
        raise WorkflowError(_l("A change to this contact is already waiting for a decision."))
    return _add_proposal(
        principal,
        contact,
        ProposalKind.REMOVAL,
        inactive_reason=InactiveReason(reason),
        note=(note or "").strip()[:1000],
    )


def _add_proposal(
    principal: Principal, contact: Contact, kind: ProposalKind, **fields
) -> ContactProposal:
    changes = fields.pop("changes", {})
    proposal = ContactProposal(
        contact=contact,
        unit_path=contact.unit_path,
        kind=kind,
        changes=json.dumps(changes, sort_keys=True),
        proposed_by_officer_id=principal.officer.id,
        proposed_by_post_id=principal.post.id,
        **fields,
    )
    db.session.add(proposal)
    db.session.flush()
    audit.record(
        f"roster.{kind.value}_proposed",
        actor=principal,
        target=contact,
        unit=contact.place.station,
        detail={"proposal_id": proposal.id, "fields": sorted(changes)},
    )
    return proposal


def decide_proposal(
    principal: Principal,
    proposal_id: int,
    seen_version: int,
    action: str,
    reason: str = "",
    note: str = "",
    *,
    now: datetime | None = None,
) -> ContactProposal:
    """Approve (apply) or reject a proposed correction or removal, exactly once."""
    _require(principal, Permission.APPROVE_ENROLMENT)
    proposal = db.session.scalar(select(ContactProposal).where(ContactProposal.id == proposal_id))
    if proposal is None:
        raise NotInScope()
    contact = _visible(principal, proposal.contact_id)
    if proposal.proposed_by_officer_id == principal.officer.id:
        raise NotAllowed(_l("You proposed this change, so someone else must decide it."))
    if action not in ("approve", "reject"):
        raise InvalidTransition(action)
    if action == "reject":
        reason, note = _check_reason(reason, note)
    now = now or utcnow()
    result = db.session.execute(
        update(ContactProposal)
        .where(
            ContactProposal.id == proposal.id,
            ContactProposal.status == ProposalStatus.PENDING,
            ContactProposal.version == seen_version,
        )
        .values(
            status=ProposalStatus.APPROVED if action == "approve" else ProposalStatus.REJECTED,
            version=ContactProposal.version + 1,
            decided_at=now,
            decided_by_officer_id=principal.officer.id,
            decision_reason=reason,
            decision_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(proposal)
        who = proposal.decided_by.name if proposal.decided_by else "?"
        raise AlreadyDecided(
            f"already decided by {who} at {proposal.decided_at}",
            decided=Decided(who, proposal.decided_at, proposal.decided_by),
        )
    db.session.refresh(proposal)
    if action == "approve":
        _apply(proposal, contact, now)
    audit.record(
        f"roster.{proposal.kind.value}_{'approved' if action == 'approve' else 'rejected'}",
        actor=principal,
        target=contact,
        unit=contact.place.station,
        detail={"proposal_id": proposal.id},
    )
    return proposal


def _apply(proposal: ContactProposal, contact: Contact, now: datetime) -> None:
    if proposal.kind == ProposalKind.REMOVAL:
        contact.status = target_status(contact.status, "remove")
        contact.inactive_reason = proposal.inactive_reason
    else:
        for name, value in json.loads(proposal.changes).items():
            if name == "place_id":
                place = db.session.get(Place, value)
                contact.place = place
                contact.unit_path = place.unit_path
            else:
                setattr(contact, name, value)
        roster.index_contact(contact)
    contact.version += 1
    db.session.flush()


def proposed_changes(proposal: ContactProposal) -> dict:
    """The proposed values, for the before/after comparison."""
    return json.loads(proposal.changes or "{}")


# ---- erasure ---------------------------------------------------------------------------------

ERASED_NAME = "[erased]"


def erase(principal: Principal, contact_id: int, note: str) -> Contact:
    """Honour a citizen's request for erasure: personal fields go, the record and audit trail stay.

    Audit events refer to contacts by id only, so the hash chain stays valid after erasure.
    """
    _require(principal, Permission.MANAGE_ROSTER)
    contact = _visible(principal, contact_id)
    check_erasable(contact)
    contact.name, contact.name_other, contact.search_key = ERASED_NAME, "", ""
    contact.mobile = contact.mobile_alt = None
    contact.address = contact.notes = ""
    contact.whatsapp = False
    if contact.status in (ContactStatus.ACTIVE, ContactStatus.PENDING):
        contact.status = ContactStatus.INACTIVE
        contact.inactive_reason = InactiveReason.WITHDREW_CONSENT
    contact.erased_at = utcnow()
    contact.version += 1
    db.session.execute(
        update(ContactProposal)
        .where(ContactProposal.contact_id == contact.id)
        .values(changes="{}", note="")
        .execution_options(synchronize_session=False)
    )
    search.forget(roster.CONTACT_SEARCH_KIND, contact.id)
    db.session.flush()
    audit.record(
        "roster.contact_erased",
        actor=principal,
        target=contact,
        unit=contact.place.station,
        detail={"note_given": bool((note or "").strip())},
    )
    return contact


# ---- the approval queue ----------------------------------------------------------------------


@dataclass
class QueueFilters:
    """What the ASP narrows the queue by (all optional)."""

    station_id: int | None = None
    place_id: int | None = None
    category: str | None = None
    submitter_pno: str | None = None
    older_than_days: int | None = None
    text: str | None = None  # a name, mobile number, village or station, in part
    newest_first: bool = False


def _text_condition(text: str):
    """SQL: the pending contact's name, mobile number, village or police station contains
    ``text`` (case-insensitive; a number is matched on its digits). The pending rows of a
    post's area are few (the (status, unit_path) index), so a contains-match over them is cheap."""
    pattern = f"%{text.lower()}%"
    digits = "".join(ch for ch in text if ch.isdigit())
    places = select(Place.id).where(
        or_(func.lower(Place.name_en).like(pattern), Place.name_hi.like(f"%{text}%"))
    )
    stations = select(Unit.path).where(
        Unit.kind == UnitKind.STATION,
        or_(func.lower(Unit.name_en).like(pattern), Unit.name_hi.like(f"%{text}%")),
    )
    matches = [
        func.lower(Contact.name).like(pattern),
        Contact.place_id.in_(places),
        Contact.unit_path.in_(stations),
    ]
    if len(digits) >= 4:
        matches.append(Contact.mobile.like(f"%{digits}%"))
    return or_(*matches)


def _queue_conditions(principal: Principal, filters: QueueFilters):
    conditions = [roster.visible_condition(principal), Contact.status == ContactStatus.PENDING]
    if filters.station_id:
        station = db.session.get(Unit, filters.station_id)
        if station is None or not principal.unit.contains(station):
            raise NotInScope()
        conditions.append(Contact.unit_path == station.path)
    if filters.place_id:
        conditions.append(Contact.place_id == filters.place_id)
    if filters.category:
        conditions.append(Contact.category == filters.category)
    if filters.submitter_pno:
        conditions.append(
            Contact.enrolled_by_officer_id.in_(
                select(Officer.id).where(Officer.pno == filters.submitter_pno.strip().upper())
            )
        )
    if filters.older_than_days:
        conditions.append(Contact.enrolled_at < utcnow() - timedelta(days=filters.older_than_days))
    if filters.text:
        conditions.append(_text_condition(filters.text))
    return conditions


def _queue_order(filters: QueueFilters):
    if filters.newest_first:
        return (Contact.enrolled_at.desc(), Contact.id.desc())
    return (Contact.enrolled_at, Contact.id)


def pending_queue(
    principal: Principal, filters: QueueFilters | None = None, *, page: int = 1, per_page: int = 50
):
    """The pending enrolments the principal may decide, oldest first, with the total count."""
    conditions = _queue_conditions(principal, filters or QueueFilters())
    total = db.session.scalar(select(func.count(Contact.id)).where(*conditions))
    items = db.session.scalars(
        select(Contact)
        .where(*conditions)
        .options(selectinload(Contact.place), selectinload(Contact.enrolled_by))
        .order_by(Contact.enrolled_at, Contact.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return items, total


def pending_counts(principal: Principal) -> dict[str, int]:
    """Counts for the navigation: pending enrolments and pending proposals in scope."""
    if not principal.can(Permission.APPROVE_ENROLMENT):
        return {"enrolments": 0, "proposals": 0}
    enrolments = db.session.scalar(
        select(func.count(Contact.id)).where(
            roster.visible_condition(principal), Contact.status == ContactStatus.PENDING
        )
    )
    proposals = db.session.scalar(
        select(func.count(ContactProposal.id)).where(
            principal.unit.covers(ContactProposal.unit_path),
            ContactProposal.status == ProposalStatus.PENDING,
        )
    )
    return {"enrolments": enrolments, "proposals": proposals}


# ---- pages: the queue page, proposals, own submissions -----------------------------------------

DEFAULT_SLA_DAYS = 7


def sla_days() -> int:
    """Days an enrolment may wait before the queue highlights it (config ``ENROLMENT_SLA_DAYS``)."""
    return int(current_app.config.get("ENROLMENT_SLA_DAYS", DEFAULT_SLA_DAYS))


# Rows per page of the approval queue: 25 keeps the page within a weak 3G link's budget
# (tests/e2e/test_page_weight.py); bulk approval and the station filter cover larger backlogs.
QUEUE_PER_PAGE = 25


def queue_page(
    principal: Principal,
    filters: QueueFilters | None = None,
    *,
    page: int = 1,
    per_page: int = QUEUE_PER_PAGE,
):
    """``pending_queue`` as a Flask-SQLAlchemy page (oldest first unless asked otherwise) for
    the queue page."""
    filters = filters or QueueFilters()
    conditions = _queue_conditions(principal, filters)
    query = (
        select(Contact)
        .where(*conditions)
        .options(
            selectinload(Contact.place).selectinload(Place.station),
            selectinload(Contact.enrolled_by),
        )
        .order_by(*_queue_order(filters))
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def queue_stations(principal: Principal) -> list[Unit]:
    """The police stations within the principal's scope (the queue's station filter)."""
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.STATION, principal.unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    )


def station_places(principal: Principal, station: Unit) -> list[Place]:
    """The inhabited places of ``station`` (within scope), by name."""
    return list(
        db.session.scalars(
            select(Place)
            .where(
                Place.station_id == station.id,
                principal.unit.covers(Place.unit_path),
                Place.uninhabited.is_(False),
            )
            .order_by(Place.name_en, Place.id)
        )
    )


def pending_for_bulk(principal: Principal, ids) -> list[Contact]:
    """The pending enrolments among ``ids`` that the principal may see (the bulk confirmation)."""
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Contact)
            .where(
                Contact.id.in_(list(ids)),
                roster.visible_condition(principal),
                Contact.status == ContactStatus.PENDING,
            )
            .options(selectinload(Contact.place), selectinload(Contact.enrolled_by))
            .order_by(Contact.enrolled_at, Contact.id)
        )
    )


def _visible_proposals(principal: Principal):
    return (
        select(ContactProposal)
        .join(Contact, ContactProposal.contact_id == Contact.id)
        .where(
            principal.unit.covers(ContactProposal.unit_path), roster.visible_condition(principal)
        )
    )


def pending_proposals(principal: Principal, *, page: int = 1, per_page: int = 50):
    """Pending corrections and removals the principal may decide, oldest first (a page)."""
    _require(principal, Permission.APPROVE_ENROLMENT)
    query = (
        _visible_proposals(principal)
        .where(ContactProposal.status == ProposalStatus.PENDING)
        .options(
            selectinload(ContactProposal.contact).selectinload(Contact.place),
            selectinload(ContactProposal.proposed_by),
        )
        .order_by(ContactProposal.proposed_at, ContactProposal.id)
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def my_submissions(principal: Principal, *, page: int = 1, per_page: int = 25):
    """The enrolments this officer submitted (still in scope), newest first (a page)."""
    query = (
        select(Contact)
        .where(
            Contact.enrolled_by_officer_id == principal.officer.id,
            roster.visible_condition(principal),
        )
        .options(selectinload(Contact.place), selectinload(Contact.decided_by))
        .order_by(Contact.enrolled_at.desc(), Contact.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def my_proposals(principal: Principal, *, limit: int = 50) -> list[ContactProposal]:
    """The corrections and removals this officer proposed (still in scope), newest first."""
    return list(
        db.session.scalars(
            _visible_proposals(principal)
            .where(ContactProposal.proposed_by_officer_id == principal.officer.id)
            .options(
                selectinload(ContactProposal.contact).selectinload(Contact.place),
                selectinload(ContactProposal.decided_by),
            )
            .order_by(ContactProposal.proposed_at.desc(), ContactProposal.id.desc())
            .limit(limit)
        )
    )


# ---- the before/after comparison of a correction -----------------------------------------------

FIELD_LABELS = {
    "name": _l("Name"),
    "name_other": _l("Name in the other script"),
    "mobile": _l("Mobile number"),
    "mobile_alt": _l("Alternate number"),
    "whatsapp": _l("Uses WhatsApp"),
    "category": _l("Category"),
    "place_id": _l("Village or ward"),
}


@dataclass
class ComparisonRow:
    """One field of a correction: what the roster holds now and what is proposed."""

    field: str
    label: str
    before: object
    after: object
    changed: bool


def comparison(proposal: ContactProposal) -> list[ComparisonRow]:
    """Every correctable field, current value against proposed (unchanged ones carry over).

    A place is given as the Place itself so the page can show the village's names.
    """
    changes = proposed_changes(proposal)
    contact = proposal.contact
    rows = []
    for name in CORRECTABLE:
        before = contact.place if name == "place_id" else getattr(contact, name)
        if name in changes:
            after = db.session.get(Place, changes[name]) if name == "place_id" else changes[name]
        else:
            after = before
        rows.append(ComparisonRow(name, FIELD_LABELS[name], before, after, name in changes))
    return rows


# ---- history ---------------------------------------------------------------------------------

HISTORY_LABELS = {
    "roster.contact_enrolled": _l("Enrolled"),
    "enrolment.approved": _l("Enrolment approved"),
    "enrolment.rejected": _l("Enrolment rejected"),
    "enrolment.resubmitted": _l("Corrected and sent again"),
    "roster.correction_proposed": _l("Correction proposed"),
    "roster.correction_approved": _l("Correction approved"),
    "roster.correction_rejected": _l("Correction rejected"),
    "roster.removal_proposed": _l("Removal proposed"),
    "roster.removal_approved": _l("Removal approved"),
    "roster.removal_rejected": _l("Removal rejected"),
    "roster.contact_erased": _l("Personal data erased on request"),
    "roster.revealed": _l("Number revealed"),
    "roster.contact_viewed": _l("Contact page viewed"),
    "roster.call_logged": _l("Call logged"),
}


@dataclass
class TimelineEntry:
    """One event of a contact's history, as the history page shows it."""

    seq: int
    action: str
    label: str
    occurred_at: datetime
    officer_name: str
    officer_pno: str
    officer: Officer | None
    post_title: str
    outcome: str
    detail: dict


def contact_history(contact: Contact) -> list[TimelineEntry]:
    """The contact's timeline from the audit trail: every event whose target is the contact, in
    order. Officers are named from the trail's own PNO (the event outlives transfers); the
    trail holds no personal data of the citizen, so it survives erasure intact."""
    rows = db.session.execute(
        select(AuditEvent, Officer)
        .outerjoin(Officer, Officer.id == AuditEvent.officer_id)
        .where(AuditEvent.target_type == Contact.__table__.name, AuditEvent.target_id == contact.id)
        .order_by(AuditEvent.id)
    ).all()
    entries = []
    for event, officer in rows:
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        label = HISTORY_LABELS.get(event.action)
        entries.append(
            TimelineEntry(
                seq=event.id,
                action=event.action,
                label=str(label) if label else event.action,
                occurred_at=event.occurred_at,
                officer_name=officer.name if officer else "",
                officer_pno=event.officer_pno,
                officer=officer,
                post_title=event.post_title,
                outcome=str(getattr(event.outcome, "value", event.outcome)),
                detail=detail if isinstance(detail, dict) else {},
            )
        )
    return entries
