"""A station's WhatsApp groups: keeping them, reconciling their members with the approved
roster, and splitting the roster into groups WhatsApp can hold.

Groups belong to a station and are read by any post whose subtree holds the station; posts with
MANAGE_WHATSAPP_GROUPS create, edit and retire them and record reconciliations. Every query is
scoped by ``Unit.covers`` on the group's ``unit_path``: a group outside the post's subtree is
``NotInScope`` (404), like one that does not exist.

Reconciling compares what the admin's phone shows (``Member`` entries, read from a paste, a CSV,
a vCard file or a chat export by ``cplan.pipelines.whatsapp_members``) with the station's
approved contacts that the post may see (active, not erased; confidential ones only for posts
that see them; one who opted out of messages is never proposed for a group, in the missing list
or the split): an entry matches a contact when one of its numbers is the contact's mobile or
alternate mobile. A name is never matched to a contact (a saved name is the phone owner's label,
not a number): entries with no Indian number are listed as "could not be matched".

The split puts every village's approved contacts in one group where the village fits, filling
groups of at most ``GROUP_MEMBER_CAP`` largest village first (first-fit decreasing); a village
bigger than a group fills whole groups and its remainder is placed like a village.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cplan.extensions import db
from cplan.models.accounts import Post
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import Contact, ContactStatus
from cplan.models.whatsapp import GROUP_MEMBER_CAP, GroupReconciliation, WhatsAppGroup
from cplan.services import audit, roster
from cplan.services.errors import DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

NAME_LENGTH = 120
PURPOSE_LENGTH = 300
FILENAME_LENGTH = 200
SOURCES = ("list", "csv", "vcf", "chat")
SOURCE_LABELS = {
    "list": _l("Numbers pasted or listed"),
    "csv": _l("CSV list"),
    "vcf": _l("Contacts (vCard)"),
    "chat": _l("Chat export"),
}
DATE_ORDER_LABELS = {
    "dmy": _l("dates read as dd/mm/yy"),
    "mdy": _l("dates read as mm/dd/yy"),
    "ymd": _l("dates read as yy/mm/dd"),
}


class GroupError(DomainError):
    """A group change was refused; the message says why (translatable)."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Member:
    """One member as the phone showed it: Indian numbers (``+91...``), international numbers
    as written, and the name (a saved name, a vCard's name, or "")."""

    name: str = ""
    numbers: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()


@dataclass
class MemberList:
    """What one upload showed: its members, and for a chat export its dates."""

    source: str
    members: list[Member]
    date_order: str = ""
    chat_from: str = ""
    chat_to: str = ""
    lines_not_understood: int = 0


def source_label(code: str) -> str:
    """What a reconciliation was read from, in the reader's language."""
    return str(SOURCE_LABELS.get(code, code))


def date_order_label(code: str) -> str:
    return str(DATE_ORDER_LABELS.get(code, code))


# ---- the groups --------------------------------------------------------------------------------


def _require_manage(principal: Principal) -> None:
    if not principal.can(Permission.MANAGE_WHATSAPP_GROUPS):
        raise NotAllowed(_l("Your post cannot manage WhatsApp groups."))


def stations_in_scope(principal: Principal) -> list[Unit]:
    """The stations whose groups the post keeps (a station post: its own)."""
    unit = principal.unit
    if unit.kind == UnitKind.STATION:
        return [unit]
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.STATION, unit.covers(Unit.path))
            .order_by(Unit.name_en, Unit.id)
        )
    )


def station_in_scope(principal: Principal, station_id: int) -> Unit:
    station = db.session.scalar(
        select(Unit).where(
            Unit.id == station_id, Unit.kind == UnitKind.STATION, principal.unit.covers(Unit.path)
        )
    )
    if station is None:
        raise NotInScope()
    return station


def station_posts(station: Unit) -> list[Post]:
    """The active posts of the station: who may be a group's admin officer."""
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.unit_id == station.id, Post.active.is_(True))
            .order_by(Post.title_en, Post.id)
        )
    )


def groups_in_scope(principal: Principal, station: Unit | None = None) -> list[WhatsAppGroup]:
    """The groups of the post's subtree (or of one station in it), active first, by station."""
    area = station or principal.unit
    if not principal.unit.contains(area):
        raise NotInScope()
    return list(
        db.session.scalars(
            select(WhatsAppGroup)
            .where(area.covers(WhatsAppGroup.unit_path))
            .options(selectinload(WhatsAppGroup.station), selectinload(WhatsAppGroup.admin_post))
            .order_by(
                WhatsAppGroup.retired_at.is_not(None),
                WhatsAppGroup.unit_path,
                WhatsAppGroup.name,
                WhatsAppGroup.id,
            )
        )
    )


def get_group(principal: Principal, group_id: int) -> WhatsAppGroup:
    group = db.session.scalar(
        select(WhatsAppGroup).where(
            WhatsAppGroup.id == group_id, principal.unit.covers(WhatsAppGroup.unit_path)
        )
    )
    if group is None:
        raise NotInScope()
    return group


def _clean_details(station: Unit, name: str, purpose: str, admin_post_id: int | None, group_id):
    name = " ".join((name or "").split())
    purpose = " ".join((purpose or "").split())
    if not name:
        raise GroupError(_l("Give the group its name as it shows on WhatsApp."), "name")
    if len(name) > NAME_LENGTH:
        raise GroupError(_l("A group name has at most 120 characters."), "name")
    if len(purpose) > PURPOSE_LENGTH:
        raise GroupError(_l("Say the purpose in at most 300 characters."), "purpose")
    admin = db.session.get(Post, admin_post_id) if admin_post_id else None
    if admin is None or admin.unit_id != station.id or not admin.active:
        raise GroupError(_l("Choose the admin officer from the station's posts."), "admin_post")
    same_name = select(WhatsAppGroup.id).where(
        WhatsAppGroup.station_id == station.id,
        WhatsAppGroup.retired_at.is_(None),
        func.lower(WhatsAppGroup.name) == name.lower(),
    )
    if group_id is not None:
        same_name = same_name.where(WhatsAppGroup.id != group_id)
    if db.session.scalar(same_name) is not None:
        raise GroupError(_l("The station already has a group of this name."), "name")
    return name, purpose, admin


def create_group(
    principal: Principal, station: Unit, *, name: str, purpose: str, admin_post_id: int | None
) -> WhatsAppGroup:
    """A new group of ``station`` (already loaded through ``station_in_scope``)."""
    _require_manage(principal)
    if not principal.unit.contains(station):
        raise NotInScope()
    name, purpose, admin = _clean_details(station, name, purpose, admin_post_id, None)
    group = WhatsAppGroup(
        station_id=station.id,
        unit_path=station.path,
        name=name,
        purpose=purpose,
        admin_post_id=admin.id,
        created_by_id=principal.officer.id,
        created_at=utcnow(),
    )
    db.session.add(group)
    db.session.flush()
    audit.record(
        "whatsapp.group_created",
        actor=principal,
        target=group,
        unit=station,
        detail={"name": audit.redact_mobiles(name), "admin_post_id": admin.id},
    )
    return group


def edit_group(
    principal: Principal,
    group: WhatsAppGroup,
    *,
    name: str,
    purpose: str,
    admin_post_id: int | None,
) -> WhatsAppGroup:
    """Change a group's name, purpose or admin officer; the audit event keeps the diff."""
    _require_manage(principal)
    if group.retired:
        raise GroupError(_l("This group is retired; it cannot be changed."))
    name, purpose, admin = _clean_details(group.station, name, purpose, admin_post_id, group.id)
    before = {"name": group.name, "purpose": group.purpose, "admin_post_id": group.admin_post_id}
    after = {"name": name, "purpose": purpose, "admin_post_id": admin.id}
    changes = {
        key: [audit.redact_mobiles(str(before[key])), audit.redact_mobiles(str(after[key]))]
        for key in before
        if before[key] != after[key]
    }
    if not changes:
        return group
    group.name, group.purpose, group.admin_post_id = name, purpose, admin.id
    db.session.flush()
    audit.record(
        "whatsapp.group_edited",
        actor=principal,
        target=group,
        unit=group.station,
        detail={"changes": changes},
    )
    return group


def retire_group(principal: Principal, group: WhatsAppGroup) -> WhatsAppGroup:
    """Retire a group (kept with its reconciliations; it can no longer be reconciled)."""
    _require_manage(principal)
    if group.retired:
        raise GroupError(_l("This group is already retired."))
    group.retired_at = utcnow()
    db.session.flush()
    audit.record(
        "whatsapp.group_retired", actor=principal, target=group, unit=group.station, detail={}
    )
    return group


# ---- reconciling -------------------------------------------------------------------------------


def _approved(principal: Principal, station: Unit):
    return (
        Contact.status == ContactStatus.ACTIVE,
        Contact.erased_at.is_(None),
        Contact.mobile.is_not(None),
        station.covers(Contact.unit_path),
        roster.visible_condition(principal),
    )


def roster_numbers(principal: Principal, station: Unit) -> tuple[int, dict[str, int], set[int]]:
    """(how many approved contacts, {number: contact id}, ids of those who opted out of
    messages) for the station, mobile and alternate numbers alike."""
    rows = db.session.execute(
        select(Contact.id, Contact.mobile, Contact.mobile_alt, Contact.opted_out_at).where(
            *_approved(principal, station)
        )
    ).all()
    numbers: dict[str, int] = {}
    opted_out: set[int] = set()
    for contact_id, mobile, alternate, opted_out_at in rows:
        numbers.setdefault(mobile, contact_id)
        if alternate:
            numbers.setdefault(alternate, contact_id)
        if opted_out_at is not None:
            opted_out.add(contact_id)
    return len(rows), numbers, opted_out


def reconcile(
    principal: Principal, group: WhatsAppGroup, member_list: MemberList, filename: str = ""
) -> GroupReconciliation:
    """Compare the members with the station's approved roster and save the result (flush)."""
    _require_manage(principal)
    if group.retired:
        raise GroupError(_l("This group is retired; it cannot be reconciled."))
    if member_list.source not in SOURCES:
        raise ValueError(f"unknown source {member_list.source!r}")
    if not member_list.members:
        raise GroupError(_l("No member numbers or names were found in what you gave."), "file")
    roster_count, numbers, opted_out = roster_numbers(principal, group.station)
    matched: set[int] = set()
    not_on_roster: list[dict] = []
    unmatched: list[str] = []
    for member in member_list.members:
        found = {numbers[number] for number in member.numbers if number in numbers}
        if found:
            matched |= found
        elif member.numbers or member.foreign:
            not_on_roster.append(
                {"name": member.name, "numbers": [*member.numbers, *member.foreign]}
            )
        else:
            unmatched.append(member.name)
    # A contact who opted out of messages is on the roster but never proposed for a group.
    missing = sorted(set(numbers.values()) - matched - opted_out)
    record = GroupReconciliation(
        group_id=group.id,
        unit_path=group.unit_path,
        reconciled_at=utcnow(),
        officer_id=principal.officer.id,
        source=member_list.source,
        filename=audit.redact_mobiles(filename or "")[:FILENAME_LENGTH],
        date_order=member_list.date_order,
        chat_from=member_list.chat_from,
        chat_to=member_list.chat_to,
        roster_count=roster_count,
        member_count=len(member_list.members),
        matched_count=len(matched),
        missing_count=len(missing),
        not_on_roster_count=len(not_on_roster),
        unmatched_count=len(unmatched),
        missing_json=json.dumps(missing),
        not_on_roster_json=json.dumps(not_on_roster, ensure_ascii=False),
        unmatched_json=json.dumps(unmatched, ensure_ascii=False),
    )
    db.session.add(record)
    db.session.flush()
    audit.record(
        "whatsapp.group_reconciled",
        actor=principal,
        target=record,
        unit=group.station,
        detail={
            "group_id": group.id,
            "source": member_list.source,
            "roster": roster_count,
            "members": len(member_list.members),
            "matched": len(matched),
            "missing": len(missing),
            "not_on_roster": len(not_on_roster),
            "unmatched": len(unmatched),
        },
    )
    return record


def reconciliations_of(group: WhatsAppGroup) -> list[GroupReconciliation]:
    """The group's reconciliations, latest first (the group is already in scope)."""
    return list(
        db.session.scalars(
            select(GroupReconciliation)
            .where(GroupReconciliation.group_id == group.id)
            .options(selectinload(GroupReconciliation.officer))
            .order_by(GroupReconciliation.reconciled_at.desc(), GroupReconciliation.id.desc())
        )
    )


def get_reconciliation(principal: Principal, reconciliation_id: int) -> GroupReconciliation:
    record = db.session.scalar(
        select(GroupReconciliation).where(
            GroupReconciliation.id == reconciliation_id,
            principal.unit.covers(GroupReconciliation.unit_path),
        )
    )
    if record is None:
        raise NotInScope()
    return record


def missing_contacts(principal: Principal, record: GroupReconciliation) -> list[Contact]:
    """The approved contacts the reconciliation found missing that are still approved and
    visible, by village and name."""
    ids = record.missing_ids
    if not ids:
        return []
    station = record.group.station
    contacts: list[Contact] = []
    for start in range(0, len(ids), 500):
        contacts += db.session.scalars(
            select(Contact)
            .where(
                Contact.id.in_(ids[start : start + 500]),
                Contact.opted_out_at.is_(None),
                *_approved(principal, station),
            )
            .options(selectinload(Contact.place))
        )
    return sorted(contacts, key=lambda c: (c.place.name_en, c.place_id, c.name, c.id))


def record_view(
    principal: Principal, record: GroupReconciliation, *, shown: int, full_numbers: bool
) -> None:
    """One ``whatsapp.reconciliation_viewed`` event per view of the lists (the access log, as
    for a village's roster): how many contacts were shown, and whether with full numbers."""
    audit.record(
        "whatsapp.reconciliation_viewed",
        actor=principal,
        target=record,
        detail={"shown": shown, "full_numbers": shown if full_numbers else 0},
    )


# ---- the split ---------------------------------------------------------------------------------


@dataclass
class VillageShare:
    place: Place
    contacts: int
    part: int = 0  # 0: the whole village; 1, 2...: a piece of a village bigger than a group
    contact_ids: list[int] = field(default_factory=list, repr=False)


@dataclass
class PlannedGroup:
    number: int
    villages: list[VillageShare] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(share.contacts for share in self.villages)


@dataclass
class SplitPlan:
    station: Unit
    total: int
    groups: list[PlannedGroup]
    cap: int = GROUP_MEMBER_CAP

    @property
    def villages_split(self) -> int:
        return len(
            {share.place.id for group in self.groups for share in group.villages if share.part}
        )


def split_roster(principal: Principal, station: Unit, cap: int = GROUP_MEMBER_CAP) -> SplitPlan:
    """The station's approved contacts in groups of at most ``cap``, villages kept whole where
    they fit (first-fit decreasing; ties by village name, so the plan is stable)."""
    if not principal.unit.contains(station):
        raise NotInScope()
    rows = db.session.execute(
        select(Contact.id, Contact.place_id)
        .where(Contact.opted_out_at.is_(None), *_approved(principal, station))
        .order_by(Contact.place_id, Contact.name, Contact.id)
    ).all()
    by_place: dict[int, list[int]] = {}
    for contact_id, place_id in rows:
        by_place.setdefault(place_id, []).append(contact_id)
    places = {
        place.id: place
        for place in db.session.scalars(select(Place).where(Place.id.in_(list(by_place))))
    }
    shares: list[VillageShare] = []
    full_groups: list[PlannedGroup] = []
    for place_id, ids in by_place.items():
        place = places[place_id]
        if len(ids) <= cap:
            shares.append(VillageShare(place, len(ids), 0, ids))
            continue
        pieces = [ids[start : start + cap] for start in range(0, len(ids), cap)]
        for number, piece in enumerate(pieces, start=1):
            share = VillageShare(place, len(piece), number, piece)
            if len(piece) == cap:
                full_groups.append(PlannedGroup(0, [share]))
            else:
                shares.append(share)
    shares.sort(key=lambda share: (-share.contacts, share.place.name_en, share.place.id))
    groups = list(full_groups)
    open_groups: list[PlannedGroup] = []
    for share in shares:
        target = next((g for g in open_groups if g.size + share.contacts <= cap), None)
        if target is None:
            target = PlannedGroup(0)
            open_groups.append(target)
        target.villages.append(share)
    groups += open_groups
    for number, group in enumerate(groups, start=1):
        group.number = number
        group.villages.sort(key=lambda share: (share.place.name_en, share.place.id, share.part))
    return SplitPlan(station, len(rows), groups, cap)


def planned_group_contacts(principal: Principal, plan: SplitPlan, number: int) -> list[Contact]:
    """The contacts of one planned group (for its vCard), by village and name."""
    group = next((g for g in plan.groups if g.number == number), None)
    if group is None:
        raise NotInScope()
    ids = [contact_id for share in group.villages for contact_id in share.contact_ids]
    contacts: list[Contact] = []
    for start in range(0, len(ids), 500):
        contacts += db.session.scalars(
            select(Contact)
            .where(Contact.id.in_(ids[start : start + 500]))
            .options(selectinload(Contact.place))
        )
    return sorted(contacts, key=lambda c: (c.place.name_en, c.place_id, c.name, c.id))
