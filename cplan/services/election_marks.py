"""Contacts who take a side in an election: a candidate, a polling or counting agent, a party
office-bearer, a candidate's close relative.

Station staff and above mark a contact (``MARK_CONTACTS``) for the election active in the
contact's district (``cplan.services.elections``); only the ASP or the SP office ends a mark
(``UNMARK_CONTACTS``), so a contact cannot quietly slip back into neutral lists. A mark is
ended, never deleted; both steps are audited. While the election is active the mark is shown on
every roster and call sheet (``open_marks``).

**Neutral verification lists** must leave marked contacts out: use ``neutral_condition(election)``
in the query (an SQL condition on ``Contact``), or ``neutral_contacts(principal, election,
unit)`` for the whole list (active contacts the principal may see, under ``unit``, not marked
in ``election``). Drives, meetings and broadcasts meant to be neutral call one of the two.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, select, update

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.elections import ContactElectionMark, Election, ElectionRole
from cplan.models.geo import Place, Unit
from cplan.models.roster import Contact, ContactStatus
from cplan.services import audit, elections, roster
from cplan.services.errors import AlreadyDecided, DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

MARKED = "elections.contact_marked"
UNMARKED = "elections.contact_unmarked"
MAX_NOTE_LENGTH = 400


class MarkError(DomainError):
    """A mark breaks a rule; nothing was changed."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def may_mark(principal: Principal) -> bool:
    return principal.can(Permission.MARK_CONTACTS)


def may_unmark(principal: Principal) -> bool:
    return principal.can(Permission.UNMARK_CONTACTS)


def open_mark(contact: Contact, election: Election) -> ContactElectionMark | None:
    return db.session.scalar(
        select(ContactElectionMark).where(
            ContactElectionMark.contact_id == contact.id,
            ContactElectionMark.election_id == election.id,
            ContactElectionMark.ended_at.is_(None),
        )
    )


def mark_contact(
    principal: Principal,
    contact: Contact,
    role: ElectionRole,
    note: str = "",
    election: Election | None = None,
) -> ContactElectionMark:
    """Mark ``contact`` as taking ``role`` in ``election`` (default: the election active in the
    contact's district). Refused when the contact already has an open mark in it."""
    if not may_mark(principal):
        raise NotAllowed("cannot mark contacts", refusal=_l("Your post cannot mark contacts."))
    if roster.contact_visibility(principal, contact) != roster.Visibility.VISIBLE:
        raise NotInScope()
    if election is None:
        election = elections.active_election_for_place(contact.place)
        if election is None:
            raise MarkError(_l("No election is on in this contact's district."))
    role = ElectionRole(role)
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE_LENGTH:
        raise MarkError(_l("At most %(count)s characters.", count=MAX_NOTE_LENGTH), "note")
    # Two officers marking the same contact at once: the second waits for the first's commit
    # (a row lock on PostgreSQL; SQLite lets one writer in at a time) and then sees its mark.
    db.session.execute(select(Contact.id).where(Contact.id == contact.id).with_for_update())
    existing = open_mark(contact, election)
    if existing is not None:
        raise MarkError(
            _l(
                "Already marked as %(role)s. Only the ASP can end a mark.",
                role=elections.label("role", existing.role),
            )
        )
    mark = ContactElectionMark(
        election_id=election.id,
        contact_id=contact.id,
        unit_path=contact.unit_path,
        role=role,
        note=note,
        marked_by_id=principal.officer.id,
    )
    db.session.add(mark)
    db.session.flush()
    audit.record(
        MARKED,
        actor=principal,
        target=contact,
        detail={"election_id": election.id, "role": role.value, "mark_id": mark.id},
    )
    return mark


def get_mark(principal: Principal, mark_id: int) -> ContactElectionMark:
    mark = db.session.scalar(
        select(ContactElectionMark)
        .join(Contact, Contact.id == ContactElectionMark.contact_id)
        .where(ContactElectionMark.id == mark_id, roster.visible_condition(principal))
    )
    if mark is None:
        raise NotInScope()
    return mark


def unmark(principal: Principal, mark: ContactElectionMark) -> ContactElectionMark:
    """End a mark (the ASP or above). Compare-and-set: of two officers ending it at once, one
    does and the other is told it was already ended."""
    if not may_unmark(principal):
        raise NotAllowed("cannot unmark", refusal=_l("Only the ASP can end a contact's mark."))
    now = utcnow()
    ended = db.session.execute(
        update(ContactElectionMark)
        .where(ContactElectionMark.id == mark.id, ContactElectionMark.ended_at.is_(None))
        .values(ended_at=now, ended_by_id=principal.officer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ended:
        raise AlreadyDecided("mark already ended", refusal=_l("This mark was already ended."))
    db.session.refresh(mark)
    audit.record(
        UNMARKED,
        actor=principal,
        target=mark.contact,
        detail={"election_id": mark.election_id, "role": mark.role.value, "mark_id": mark.id},
    )
    return mark


# ---- reading -------------------------------------------------------------------------------------


def open_marks(contacts, district_ids=None) -> dict[int, ContactElectionMark]:
    """{contact id: its open mark in the election active for its district} for loaded contacts
    (their ``place`` loaded or loadable); contacts without one are left out. Two queries.

    ``district_ids``, when the caller knows the contacts' districts (a village's roster): the
    marks are read only when an election is active in one of them, so most of the year the
    page asks only ``elections.active_phases``, which it asks anyway (memoised per transaction).
    """
    contacts = [contact for contact in contacts if contact is not None]
    if not contacts:
        return {}
    if district_ids is not None and not elections.active_phases(district_ids):
        return {}
    marks = db.session.execute(
        select(ContactElectionMark, Place.district_id)
        .join(Contact, Contact.id == ContactElectionMark.contact_id)
        .join(Place, Place.id == Contact.place_id)
        .where(
            ContactElectionMark.contact_id.in_({contact.id for contact in contacts}),
            ContactElectionMark.ended_at.is_(None),
        )
    ).all()
    if not marks:
        return {}
    phases = elections.active_phases({district_id for _mark, district_id in marks})
    found: dict[int, ContactElectionMark] = {}
    for mark, district_id in marks:
        phase = phases.get(district_id)
        if phase is not None and phase.election_id == mark.election_id:
            found[mark.contact_id] = mark
    return found


def neutral_condition(election: Election | int):
    """SQL condition on ``Contact``: not marked (an open mark) in ``election``. Add it to any
    query of contacts meant for neutral verification."""
    election_id = election if isinstance(election, int) else election.id
    return ~exists().where(
        ContactElectionMark.contact_id == Contact.id,
        ContactElectionMark.election_id == election_id,
        ContactElectionMark.ended_at.is_(None),
    )


def neutral_contacts(principal: Principal, election: Election, unit: Unit | None = None) -> Select:
    """The active contacts ``principal`` may see under ``unit`` (default: the principal's own
    unit) that are not marked in ``election``, ordered by place and name: a select to page or
    count."""
    unit = unit or principal.unit
    return (
        select(Contact)
        .where(
            Contact.status == ContactStatus.ACTIVE,
            roster.visible_condition(principal),
            unit.covers(Contact.unit_path),
            neutral_condition(election),
        )
        .order_by(Contact.place_id, Contact.name, Contact.id)
    )


def marks_of(principal: Principal, election: Election, unit: Unit) -> list[ContactElectionMark]:
    """The open marks of ``election`` under ``unit`` that the principal may see."""
    return list(
        db.session.scalars(
            select(ContactElectionMark)
            .join(Contact, Contact.id == ContactElectionMark.contact_id)
            .where(
                ContactElectionMark.election_id == election.id,
                ContactElectionMark.ended_at.is_(None),
                unit.covers(ContactElectionMark.unit_path),
                roster.visible_condition(principal),
            )
            .order_by(ContactElectionMark.marked_at.desc())
        )
    )
