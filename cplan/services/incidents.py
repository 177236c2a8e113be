"""Incidents: reporting, verification calls, verdicts, supervision and tips.

Every function here changes state in the caller's transaction (flush, never commit) and writes
an audit event (``incident.*``) next to the change. Audit details name citizens by id only,
never by name or number; what a citizen said is kept on the incident's timeline, not in the trail.

The status workflow is ``TRANSITIONS``; anything else raises ``InvalidTransition``. A status
change names the ``version`` the officer saw and is a compare-and-set UPDATE, so two officers
cannot both move the same incident. The "being handled by" marker is claimed the same way.

Scope: a station or circle post sees an incident when one of its places lies in the post's subtree
(an incident spanning two stations is visible to both); district, range, zone and state posts see
the incidents of the districts under them (all of an incident's places lie in its district).
Confidential incidents (tips) need ``VIEW_CONFIDENTIAL`` (ASP upwards). Anything else is
``NotInScope`` (the pages answer 404).

Seeing an incident is not knowing every contact on its timeline: an incident shared by two
stations is worked by both, and the ASP may call a confidential source about an open incident.
Pages read the timeline through ``timeline(principal, incident)``, which names a contact only
as ``roster.contact_visibility`` allows and otherwise says "a confidential source" or "a contact
of another station"; the call sheet lists contacts through ``roster.visible_condition``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import Select, and_, case, false, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from cplan.extensions import db
from cplan.formats import IST
from cplan.models.accounts import Officer
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.incidents import (
    ANSWERED_OUTCOMES,
    VERDICT_STATUSES,
    CallOutcome,
    EntryKind,
    Incident,
    IncidentKind,
    IncidentPlace,
    IncidentSerial,
    IncidentSource,
    IncidentStatus,
    Severity,
    TimelineEntry,
)
from cplan.models.roster import Contact, ContactStatus
from cplan.services import audit, roster, search
from cplan.services.errors import (
    AlreadyDecided,
    Decided,
    DomainError,
    InvalidTransition,
    NotInScope,
)
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

S = IncidentStatus

# status -> the statuses it may move to. A verdict may be revisited (back to verifying); a
# report found false may be closed without action; a closed incident may be reopened.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.NEW: frozenset({S.VERIFYING}),
    S.VERIFYING: frozenset({S.VERIFIED_TRUE, S.FOUND_FALSE, S.UNCONFIRMED}),
    S.VERIFIED_TRUE: frozenset({S.ACTION_TAKEN, S.VERIFYING}),
    S.FOUND_FALSE: frozenset({S.ACTION_TAKEN, S.CLOSED, S.VERIFYING}),
    S.UNCONFIRMED: frozenset({S.ACTION_TAKEN, S.VERIFYING}),
    S.ACTION_TAKEN: frozenset({S.CLOSED}),
    S.CLOSED: frozenset({S.VERIFYING}),  # reopening, recorded as incident.reopened
}

# The reader's words for incident values (pages, CSV exports and the printed report).
LABELS = {
    "kind": {
        "rumour": _l("Rumour"),
        "communal_tension": _l("Communal tension"),
        "dispute_clash": _l("Dispute or clash"),
        "crime": _l("Crime"),
        "election": _l("Election-related"),
        "protest_gathering": _l("Protest or gathering"),
        "other": _l("Other"),
    },
    "severity": {
        "low": _l("Low"),
        "medium": _l("Medium"),
        "high": _l("High"),
        "critical": _l("Critical"),
    },
    "source": {
        "up112_call": _l("UP-112 call"),
        "social_media": _l("Social media"),
        "field_report": _l("Field report"),
        "contact_tip": _l("Tip from a C-Plan contact"),
        "control_room": _l("Control room"),
        "whatsapp": _l("WhatsApp message"),
    },
    "status": {
        "new": _l("New"),
        "verifying": _l("Verifying"),
        "verified_true": _l("Verified true"),
        "found_false": _l("Found false"),
        "unconfirmed": _l("Unconfirmed"),
        "action_taken": _l("Action taken"),
        "closed": _l("Closed"),
    },
    "outcome": {
        # What the contact said of the report; "Denied" alone reads as "refused" in Hindi.
        "confirmed": lazy_pgettext("call outcome", "Confirmed"),
        "denied": lazy_pgettext("call outcome", "Denied"),
        "unaware": lazy_pgettext("call outcome", "Unaware"),
        "no_answer": _l("No answer"),
        "switched_off": _l("Switched off"),
        "wrong_number": _l("Wrong number"),
    },
    "entry": {
        "note": _l("Note"),
        "call": _l("Call"),
        "status_change": _l("Status change"),
        "escalation": _l("Escalation"),
        "review": _l("Supervisor review"),
        "public_message": _l("Facts pushed to the public"),
        "correction": _l("Correction"),
    },
}


def label(kind: str, value) -> str:
    """The reader's words for an incident value (``label("status", incident.status)``)."""
    value = getattr(value, "value", value)
    text = LABELS[kind].get(value or "")
    return str(text) if text is not None else (value or "")


# A claim on an incident lapses after this long and may be taken over.
CLAIM_LAPSES_AFTER = timedelta(hours=2)
DEFAULT_FIRST_CALL_MINUTES = 30
DEFAULT_VERDICT_HOURS = 6
# Posts whose unit holds whole districts: they see every incident of those districts.
_ABOVE_STATION = frozenset({UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE, UnitKind.DISTRICT})
MAX_TEXT = 4000
# Places offered at once on the "report an incident" form.
MAX_PLACE_CHOICES = 300


class IncidentError(DomainError):
    """A rule about incidents refused the action; the message is safe to show."""


class IncidentChanged(AlreadyDecided):
    """Someone else changed the incident since the officer looked at it."""

    refusal = _l("Someone changed this incident first. Look at it again and retry.")
    decided_refusal = _l(
        "Someone changed this incident first (%(name)s, at %(time)s). Look at it again and retry."
    )


def _changed_by(incident: Incident) -> Decided:
    """Who last changed ``incident`` and when: its newest timeline entry (else its reporter)."""
    entry = db.session.scalar(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.seq.desc())
        .limit(1)
    )
    if entry is not None:
        officer = entry.officer
        return Decided(officer.name if officer else "?", entry.at, officer)
    officer = incident.created_by
    return Decided(officer.name if officer else "?", incident.updated_at, officer)


class AlreadyClaimed(AlreadyDecided):
    """Another officer is handling the incident (and the claim has not lapsed)."""

    decided_refusal = _l("%(name)s is already handling this incident.")

    def __init__(self, message: str, officer: Officer | None = None, since: datetime | None = None):
        self.officer = officer
        self.officer_name = officer.name if officer is not None else ""
        self.since = since
        super().__init__(message, decided=Decided(self.officer_name or "?", since, officer))


# ---- scope ----------------------------------------------------------------------------------


def visible_incidents_condition(principal: Principal):
    """SQL condition: the incidents ``principal`` may see at all."""
    if not principal.can(Permission.VIEW_INCIDENTS):
        return false()
    unit = principal.unit
    if unit.kind == UnitKind.STATE:
        condition = true()  # every district lies in the state
    elif unit.kind == UnitKind.DISTRICT:
        # Newest first within one district: read in order from the (district_id, reported_at) index.
        condition = Incident.district_id == unit.id
    elif unit.kind in _ABOVE_STATION:
        # Every place of an incident lies in its district, so "the district is in my subtree"
        # decides, as an IN list of district ids.
        condition = Incident.district_id.in_(
            select(Unit.id)
            .where(Unit.kind == UnitKind.DISTRICT, unit.covers(Unit.path))
            .scalar_subquery()
        )
    else:
        # The incidents with a place in the subtree, as an IN list read from the places' path
        # index: a station's hundred-odd incidents are then looked up by id, rather than every
        # open incident of the state probed for a place of the station (SQLite at full scale:
        # 0.5 ms against 26-60 ms for a home page's list).
        condition = Incident.id.in_(
            select(IncidentPlace.incident_id).where(unit.covers(IncidentPlace.unit_path))
        )
    if not principal.can(Permission.VIEW_CONFIDENTIAL):
        condition = and_(condition, Incident.confidential.is_(False))
    return condition


def get_visible(principal: Principal, incident_id: int) -> Incident:
    """An incident the principal may see, or NotInScope (the view answers 404)."""
    incident = db.session.scalar(
        select(Incident).where(Incident.id == incident_id, visible_incidents_condition(principal))
    )
    if incident is None:
        raise NotInScope()
    return incident


def is_visible(principal: Principal, incident: Incident) -> bool:
    """Whether ``principal`` may see ``incident`` (e.g. a confidential tip its author cannot)."""
    return (
        db.session.scalar(
            select(Incident.id).where(
                Incident.id == incident.id, visible_incidents_condition(principal)
            )
        )
        is not None
    )


def _require(principal: Principal, permission: Permission) -> None:
    if not principal.can(permission):
        raise IncidentError(_l("Your post cannot do this."))


def _clean_text(text: str, required: bool = False) -> str:
    text = (text or "").strip()
    if required and not text:
        raise IncidentError(_l("Write something."))
    return text[:MAX_TEXT]


# ---- creating -------------------------------------------------------------------------------


def reference_for(district: Unit, year: int, serial: int) -> str:
    """The readable reference: district LGD code / year / serial (``124/2026/17``)."""
    return f"{district.code or district.id}/{year}/{serial}"


def next_serial(district_id: int, year: int) -> int:
    """The next serial of ``district_id`` in ``year``; concurrent creators never share one.

    The UPDATE locks the counter row until commit (PostgreSQL) or runs under SQLite's single
    writer; the first incident of a year inserts the row, and a creator that loses that
    insert race retries the UPDATE.
    """
    key = (IncidentSerial.district_id == district_id, IncidentSerial.year == year)
    for _attempt in range(3):
        result = db.session.execute(
            update(IncidentSerial)
            .where(*key)
            .values(last_serial=IncidentSerial.last_serial + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            return db.session.scalar(select(IncidentSerial.last_serial).where(*key))
        try:
            with db.session.begin_nested():
                db.session.add(IncidentSerial(district_id=district_id, year=year, last_serial=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate an incident serial")


def create_incident(
    principal: Principal,
    places: list[Place],
    kind: IncidentKind | str,
    severity: Severity | str,
    occurred_at: datetime,
    reported_at: datetime,
    source: IncidentSource | str,
    summary: str,
    up112_number: str | None = None,
    confidential: bool = False,
) -> Incident:
    """Open an incident for one or more places of one district, all within the principal's scope."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    places = list({place.id: place for place in places}.values())
    if not places:
        raise IncidentError(_l("Choose at least one place."))
    if any(not principal.unit.contains_path(place.unit_path) for place in places):
        raise NotInScope()
    if len({place.district_id for place in places}) != 1:
        raise IncidentError(_l("All places of an incident must be in one district."))
    if occurred_at > reported_at:
        raise IncidentError(_l("An incident cannot be reported before it happened."))
    summary = _clean_text(summary, required=True)
    up112_number = (up112_number or "").strip() or None
    if up112_number is not None and not (up112_number.isascii() and up112_number.isalnum()):
        raise IncidentError(_l("A UP-112 event number has letters and digits only."))

    district = db.session.get(Unit, places[0].district_id)
    year = reported_at.astimezone(IST).year
    serial = next_serial(district.id, year)
    incident = Incident(
        reference=reference_for(district, year, serial),
        district_id=district.id,
        year=year,
        serial=serial,
        up112_number=up112_number,
        kind=IncidentKind(kind),
        severity=Severity(severity),
        source=IncidentSource(source),
        occurred_at=occurred_at,
        reported_at=reported_at,
        summary=summary,
        status=IncidentStatus.NEW,
        confidential=bool(confidential),
        version=1,
        last_entry_seq=0,
        created_by_officer_id=principal.officer.id,
        created_by_post_id=principal.post.id,
    )
    db.session.add(incident)
    for place in places:
        db.session.add(
            IncidentPlace(incident=incident, place_id=place.id, unit_path=place.unit_path)
        )
    db.session.flush()
    audit.record(
        "incident.created",
        actor=principal,
        target=incident,
        unit=district,
        detail={
            "reference": incident.reference,
            "kind": incident.kind.value,
            "severity": incident.severity.value,
            "source": incident.source.value,
            "places": [place.id for place in places],
            "confidential": incident.confidential,
        },
    )
    return incident


def record_tip(
    principal: Principal,
    contact_id: int,
    summary: str,
    confidential: bool = False,
    kind: IncidentKind | str = IncidentKind.CRIME,
    severity: Severity | str = Severity.MEDIUM,
) -> Incident:
    """Record what a contact told the police as an incident (source: contact tip) of their place."""
    contact = roster.get_visible_contact(principal, contact_id)
    if contact.status != ContactStatus.ACTIVE:
        raise IncidentError(_l("Only an active contact's information can be recorded as a tip."))
    now = utcnow()
    incident = create_incident(
        principal,
        [contact.place],
        kind,
        severity,
        now,
        now,
        IncidentSource.CONTACT_TIP,
        summary,
        confidential=confidential,
    )
    _append(
        principal, incident, EntryKind.NOTE, contact_id=contact.id
    )  # shown as "tip from <contact>"
    audit.record(
        "incident.tip_recorded",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"contact_id": contact.id, "confidential": incident.confidential},
    )
    return incident


# ---- the timeline ---------------------------------------------------------------------------


def _append(principal: Principal, incident: Incident, kind: EntryKind, **fields) -> TimelineEntry:
    """Add an entry with the incident's next seq (the counter UPDATE serialises writers)."""
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id)
        .values(last_entry_seq=Incident.last_entry_seq + 1)
        .execution_options(synchronize_session=False)
    )
    seq = db.session.scalar(select(Incident.last_entry_seq).where(Incident.id == incident.id))
    entry = TimelineEntry(
        incident_id=incident.id,
        seq=seq,
        at=utcnow(),
        kind=kind,
        officer_id=principal.officer.id,
        post_id=principal.post.id,
        **fields,
    )
    db.session.add(entry)
    db.session.flush()
    db.session.expire(incident)
    return entry


def entries(incident: Incident) -> list[TimelineEntry]:
    """The incident's entries in order, as recorded: they name contacts whoever reads them, so
    pages show ``timeline`` instead."""
    return list(
        db.session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident.id)
            .order_by(TimelineEntry.seq)
            .options(
                selectinload(TimelineEntry.officer),
                selectinload(TimelineEntry.contact),
                selectinload(TimelineEntry.corrects),
                selectinload(TimelineEntry.escalated_to),
            )
        )
    )


class ShownEntry:
    """A timeline entry as one reader may see it: every field of the entry, except that
    ``contact`` is the contact it names only when the reader may see that contact
    (``roster.contact_visibility``); otherwise ``contact`` is None and ``withheld`` says which
    placeholder to show ("a confidential source", "a contact of another station")."""

    __slots__ = ("_entry", "contact", "withheld")

    def __init__(
        self, entry: TimelineEntry, contact: Contact | None, withheld: roster.Visibility | None
    ):
        self._entry, self.contact, self.withheld = entry, contact, withheld

    def __getattr__(self, name):
        return getattr(self._entry, name)

    def __repr__(self) -> str:
        return f"<ShownEntry {self._entry!r} withheld={self.withheld}>"


def shown_entry(principal: Principal, entry: TimelineEntry) -> ShownEntry:
    """``entry`` as ``principal`` may see it (see ``ShownEntry``)."""
    contact = entry.contact
    if contact is None:
        return ShownEntry(entry, None, None)
    visibility = roster.contact_visibility(principal, contact)
    if visibility == roster.Visibility.VISIBLE:
        return ShownEntry(entry, contact, None)
    return ShownEntry(entry, None, visibility)


def timeline(principal: Principal, incident: Incident) -> list[ShownEntry]:
    """The incident's timeline as ``principal`` may read it (the incident page, its printed
    report): entries naming a contact the reader may not see name a placeholder instead. The
    same queries whatever the entries name (the contacts are read in one, as before)."""
    return [shown_entry(principal, entry) for entry in entries(incident)]


def add_note(
    principal: Principal, incident_id: int, text: str, public_message: bool = False
) -> TimelineEntry:
    """A note on the timeline, or (``public_message``) the facts pushed to the public."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    kind = EntryKind.PUBLIC_MESSAGE if public_message else EntryKind.NOTE
    entry = _append(principal, incident, kind, text=_clean_text(text, required=True))
    audit.record(
        f"incident.{kind.value}_added",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"entry": entry.seq},
    )
    return entry


def get_entry(principal: Principal, incident: Incident, entry_id: int) -> TimelineEntry:
    """An entry of ``incident`` (one the principal may see), or ``NotInScope``."""
    entry = db.session.scalar(
        select(TimelineEntry).where(
            TimelineEntry.id == entry_id, TimelineEntry.incident_id == incident.id
        )
    )
    if entry is None:
        raise NotInScope()
    return entry


def correct_entry(principal: Principal, entry_id: int, text: str) -> TimelineEntry:
    """Correct an entry: a new entry that names the old one (the old one stays as written)."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    old = db.session.get(TimelineEntry, entry_id)
    if old is None:
        raise NotInScope()
    incident = get_visible(principal, old.incident_id)
    entry = _append(
        principal,
        incident,
        EntryKind.CORRECTION,
        text=_clean_text(text, required=True),
        corrects_entry_id=old.id,
    )
    audit.record(
        "incident.entry_corrected",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"entry": entry.seq, "corrects": old.seq},
    )
    return entry


def escalation_targets(principal: Principal, incident: Incident) -> list[Unit]:
    """The units the principal may escalate ``incident`` to: the incident's district and the
    units above it, less those within the principal's own unit; nearest first."""
    district = incident.district
    units = db.session.scalars(select(Unit).where(Unit.id.in_(district.ancestor_ids)))
    return sorted(
        (unit for unit in units if not principal.unit.contains(unit)),
        key=lambda unit: -unit.kind.depth,
    )


def escalate(principal: Principal, incident_id: int, unit: Unit, note: str) -> TimelineEntry:
    """Escalate to a unit above the principal's that covers the incident's district."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    if principal.unit.contains(unit) or not unit.contains(incident.district):
        raise IncidentError(_l("Escalate to a higher unit that covers this incident."))
    entry = _append(
        principal,
        incident,
        EntryKind.ESCALATION,
        text=_clean_text(note),
        escalated_to_unit_id=unit.id,
    )
    audit.record(
        "incident.escalated",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"entry": entry.seq, "to_unit": unit.id},
    )
    return entry


# ---- the status workflow --------------------------------------------------------------------


def allowed_statuses(status: IncidentStatus) -> frozenset[IncidentStatus]:
    return TRANSITIONS[IncidentStatus(status)]


def check_transition(old_status: IncidentStatus | str, new_status: IncidentStatus | str) -> None:
    """Raise ``InvalidTransition`` unless ``TRANSITIONS`` lets an incident move from
    ``old_status`` to ``new_status``: the one rule for the pages, the demo and the generator."""
    old_status, new_status = IncidentStatus(old_status), IncidentStatus(new_status)
    if new_status not in TRANSITIONS[old_status]:
        raise InvalidTransition(
            f"cannot move an incident from {old_status.value} to {new_status.value}",
            refusal=_l("The incident cannot move to that status now."),
        )


def change_status(
    principal: Principal,
    incident_id: int,
    seen_version: int,
    new_status: IncidentStatus | str,
    note: str = "",
) -> Incident:
    """Move the incident to ``new_status`` if it is still as the officer saw it
    (compare-and-set)."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    new_status = IncidentStatus(new_status)
    old_status = incident.status
    if incident.version != seen_version:
        raise IncidentChanged(
            f"incident {incident.reference} was changed meanwhile (now {old_status.value})",
            decided=_changed_by(incident),
        )
    check_transition(old_status, new_status)
    reopening = old_status == S.CLOSED
    note = _clean_text(note, required=reopening)
    now = utcnow()
    values = {"status": new_status, "version": Incident.version + 1}
    if new_status in VERDICT_STATUSES:
        values["verdict_at"] = func.coalesce(Incident.verdict_at, now)
    if reopening:
        # A reopened incident goes back into the review queue.
        values.update(reviewed_at=None, reviewed_by_officer_id=None, review_comment="")
    result = db.session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            Incident.status == old_status,
            Incident.version == seen_version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(incident)
        raise IncidentChanged(
            f"incident {incident.reference} was changed meanwhile (now {incident.status.value})",
            decided=_changed_by(incident),
        )
    entry = _append(
        principal,
        incident,
        EntryKind.STATUS_CHANGE,
        text=note,
        from_status=old_status,
        to_status=new_status,
    )
    db.session.refresh(incident)
    audit.record(
        "incident.reopened" if reopening else "incident.status_changed",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"from": old_status.value, "to": new_status.value, "entry": entry.seq},
    )
    return incident


# ---- verification calls ---------------------------------------------------------------------


def _sheet_place_ids(incident: Incident) -> tuple[list[int], list[int]]:
    """The affected places, and the other places of the stations they belong to."""
    affected = [incident_place.place_id for incident_place in incident.places]
    stations = set(
        db.session.scalars(
            select(Place.station_id).where(Place.id.in_(affected), Place.station_id.is_not(None))
        )
    )
    neighbours = []
    if stations:
        neighbours = list(
            db.session.scalars(
                select(Place.id).where(Place.station_id.in_(stations), Place.id.not_in(affected))
            )
        )
    return affected, neighbours


def log_call(
    principal: Principal,
    incident_id: int,
    contact_id: int,
    outcome: CallOutcome | str,
    said: str = "",
) -> TimelineEntry:
    """Record a verification call to a contact of the incident's places (or their stations')."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    outcome = CallOutcome(outcome)
    contact = roster.get_visible_contact(principal, contact_id)
    affected, neighbours = _sheet_place_ids(incident)
    if contact.status != ContactStatus.ACTIVE or contact.place_id not in {*affected, *neighbours}:
        raise IncidentError(
            _l("Call only active contacts of the incident's places or their stations.")
        )
    now = utcnow()
    if outcome in ANSWERED_OUTCOMES:
        contact.last_verified_at = now
    else:
        contact.unreachable_count = Contact.unreachable_count + 1  # in SQL: no lost update
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.first_call_at.is_(None))
        .values(first_call_at=now)
        .execution_options(synchronize_session=False)
    )
    entry = _append(
        principal,
        incident,
        EntryKind.CALL,
        text=_clean_text(said),
        contact_id=contact.id,
        call_outcome=outcome,
    )
    db.session.refresh(contact)
    audit.record(
        "incident.call_logged",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"entry": entry.seq, "contact_id": contact.id, "outcome": outcome.value},
    )
    _start_verifying(principal, incident)
    return entry


def _start_verifying(principal: Principal, incident: Incident) -> None:
    """A new incident's first call starts its verification: new -> verifying, by the same
    compare-and-set as a status change (an officer who moved it meanwhile wins)."""
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.status == S.NEW)
        .values(status=S.VERIFYING, version=Incident.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return
    entry = _append(
        principal, incident, EntryKind.STATUS_CHANGE, from_status=S.NEW, to_status=S.VERIFYING
    )
    db.session.refresh(incident)
    audit.record(
        "incident.status_changed",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"from": S.NEW.value, "to": S.VERIFYING.value, "entry": entry.seq, "call": True},
    )


@dataclass
class CallSheetRow:
    """One contact to call: from an affected place or a neighbouring one, and whether called yet."""

    contact: Contact
    affected_place: bool
    called: bool
    last_outcome: CallOutcome | None
    full_number: bool = False  # a station post, or the number (or its village) revealed


# Contacts of the station's other places shown on a call sheet (beyond those already called):
# the affected places come first and in full; a station has hundreds of other contacts.
NEIGHBOURS_SHOWN = 10


@dataclass
class CallSheet:
    """The rows to call, and how many more contacts the station's other places hold."""

    rows: list[CallSheetRow]
    more_neighbours: int = 0


def call_sheet(principal: Principal, incident: Incident) -> CallSheet:
    """Active visible contacts of the affected places, then the ``NEIGHBOURS_SHOWN`` first of
    the other places of the same station(s) (and any of them already called); within each
    group who answered most recently *before this incident* first (never verified last), so
    the sheet keeps its order while the calls are made: a contact who just answered does not
    jump to the top under the officer's thumb."""
    affected, neighbours = _sheet_place_ids(incident)
    last_outcomes = latest_outcomes(incident)
    full = roster.sees_full_numbers(principal)
    revealed = set() if full else roster.revealed_ids(principal, *affected, *neighbours)
    opened = incident.created_at
    # The last answer before the incident: the stored date when older than the incident, else
    # the contact's last answered call of an earlier incident (read through the contact index).
    earlier_answer = (
        select(func.max(TimelineEntry.at))
        .where(
            TimelineEntry.contact_id == Contact.id,
            TimelineEntry.kind == EntryKind.CALL,
            TimelineEntry.call_outcome.in_(list(ANSWERED_OUTCOMES)),
            TimelineEntry.at < opened,
        )
        .correlate(Contact)
        .scalar_subquery()
    )
    answered_before = case(
        (Contact.last_verified_at < opened, Contact.last_verified_at), else_=earlier_answer
    )
    order = (
        answered_before.is_(None),
        answered_before.desc(),
        Contact.name,
        Contact.id,
    )

    def callable_in(place_ids):
        return (
            select(Contact)
            .options(selectinload(Contact.place))
            .where(
                Contact.place_id.in_(place_ids),
                Contact.status == ContactStatus.ACTIVE,
                roster.visible_condition(principal),
            )
        )

    contacts = list(db.session.scalars(callable_in(affected).order_by(*order))) if affected else []
    sheet = CallSheet(
        [
            CallSheetRow(
                contact,
                True,
                contact.id in last_outcomes,
                last_outcomes.get(contact.id),
                full or contact.id in revealed,
            )
            for contact in contacts
        ]
    )
    if neighbours:
        shown = list(
            db.session.scalars(
                callable_in(neighbours)
                .where(
                    or_(
                        Contact.id.in_(list(last_outcomes)),
                        Contact.id.in_(
                            callable_in(neighbours)
                            .with_only_columns(Contact.id)
                            .order_by(*order)
                            .limit(NEIGHBOURS_SHOWN)
                            .scalar_subquery()
                        ),
                    )
                )
                .order_by(*order)
            )
        )
        sheet.rows += [
            CallSheetRow(
                contact,
                False,
                contact.id in last_outcomes,
                last_outcomes.get(contact.id),
                full or contact.id in revealed,
            )
            for contact in shown
        ]
        total = db.session.scalar(callable_in(neighbours).with_only_columns(func.count(Contact.id)))
        sheet.more_neighbours = total - len(shown)
    return sheet


def call_sheet_row(principal: Principal, incident: Incident, contact_id: int) -> CallSheetRow:
    """The call sheet's row of one contact as it stands now (after a call was logged): what
    the sheet shows of it without reading the whole sheet again. NotInScope for a contact the
    principal may not see."""
    contact = roster.get_visible_contact(principal, contact_id)
    affected = {incident_place.place_id for incident_place in incident.places}
    last_outcome = latest_outcomes(incident).get(contact.id)
    full = roster.sees_full_numbers(principal) or contact.id in roster.revealed_ids(
        principal, contact.place_id
    )
    return CallSheetRow(
        contact, contact.place_id in affected, last_outcome is not None, last_outcome, full
    )


def latest_outcomes(incident: Incident) -> dict[int, CallOutcome]:
    """contact id -> the outcome of the incident's latest call to that contact."""
    return dict(
        db.session.execute(
            select(TimelineEntry.contact_id, TimelineEntry.call_outcome)
            .where(TimelineEntry.incident_id == incident.id, TimelineEntry.kind == EntryKind.CALL)
            .order_by(TimelineEntry.seq)
        ).all()
    )


def tally(incident: Incident) -> dict[CallOutcome, int]:
    """Outcomes of the incident's calls, counting each contact once by their latest call
    (a contact who did not answer and later confirmed counts as confirmed)."""
    counts = Counter(latest_outcomes(incident).values())
    return {outcome: counts.get(outcome, 0) for outcome in CallOutcome}


MIN_ANSWERED_FOR_VERDICT = 3


def suggested_verdict(counts: dict[CallOutcome, int]) -> IncidentStatus | None:
    """A suggestion only; the officer decides.

    Fewer than 3 contacts answered (confirmed, denied or unaware): no suggestion. Otherwise
    verified true when at least 2 confirmed and confirmations are at least twice the denials;
    found false when at least 2 denied and denials are at least twice the confirmations;
    otherwise unconfirmed.
    """
    confirmed = counts.get(CallOutcome.CONFIRMED, 0)
    denied = counts.get(CallOutcome.DENIED, 0)
    answered = sum(counts.get(outcome, 0) for outcome in ANSWERED_OUTCOMES)
    if answered < MIN_ANSWERED_FOR_VERDICT:
        return None
    if confirmed >= 2 and confirmed >= 2 * denied:
        return S.VERIFIED_TRUE
    if denied >= 2 and denied >= 2 * confirmed:
        return S.FOUND_FALSE
    return S.UNCONFIRMED


# ---- supervision ----------------------------------------------------------------------------


def claim(principal: Principal, incident_id: int, *, now: datetime | None = None) -> Incident:
    """Mark the incident as being handled by this officer; exactly one of two claimants wins.

    A claim older than ``CLAIM_LAPSES_AFTER`` may be taken over; claiming again refreshes one's own.
    """
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    previous = incident.handling_by_officer_id
    now = now or utcnow()
    me = principal.officer.id
    result = db.session.execute(
        update(Incident)
        .where(
            Incident.id == incident.id,
            or_(
                Incident.handling_by_officer_id.is_(None),
                Incident.handling_by_officer_id == me,
                Incident.handling_since < now - CLAIM_LAPSES_AFTER,
            ),
        )
        .values(handling_by_officer_id=me, handling_since=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(incident)
    if result.rowcount != 1:
        holder = incident.handling_by
        raise AlreadyClaimed(
            f"being handled by {holder.name if holder else '?'}", holder, incident.handling_since
        )
    detail = {"taken_over_from": previous} if previous not in (None, me) else None
    audit.record(
        "incident.claimed", actor=principal, target=incident, unit=incident.district, detail=detail
    )
    return incident


def release(principal: Principal, incident_id: int) -> Incident:
    """Give up one's own claim on the incident."""
    _require(principal, Permission.MANAGE_INCIDENTS)
    incident = get_visible(principal, incident_id)
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.handling_by_officer_id == principal.officer.id)
        .values(handling_by_officer_id=None, handling_since=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(incident)
    if result.rowcount != 1:
        raise IncidentError(_l("You are not handling this incident."))
    audit.record("incident.released", actor=principal, target=incident, unit=incident.district)
    return incident


def mark_reviewed(principal: Principal, incident_id: int, comment: str = "") -> Incident:
    """A supervisor's review (once; reopening puts the incident back in the queue)."""
    _require(principal, Permission.REVIEW_INCIDENTS)
    incident = get_visible(principal, incident_id)
    comment = _clean_text(comment)
    now = utcnow()
    result = db.session.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.reviewed_at.is_(None))
        .values(
            reviewed_at=now, reviewed_by_officer_id=principal.officer.id, review_comment=comment
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(incident)
    if result.rowcount != 1:
        who = incident.reviewed_by.name if incident.reviewed_by else "?"
        raise AlreadyDecided(
            f"already reviewed by {who} at {incident.reviewed_at}",
            refusal=_l("Someone else did this first."),
        )
    entry = _append(principal, incident, EntryKind.REVIEW, text=comment)
    audit.record(
        "incident.reviewed",
        actor=principal,
        target=incident,
        unit=incident.district,
        detail={"entry": entry.seq},
    )
    return incident


@dataclass
class FeedFilters:
    """What the control-room feed is narrowed to; ``since`` inclusive, ``until`` exclusive (UTC)."""

    district_id: int | None = None
    kind: IncidentKind | str | None = None
    status: IncidentStatus | str | None = None
    severity: Severity | str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # Only incidents not yet closed.
    open_only: bool = False
    # An incident's reference (124/2026/17) or UP-112 event number, exactly as written.
    number: str = ""


def feed_districts(principal: Principal) -> list:
    """The districts a post above district level may narrow the feed to (id and names, not
    whole units: the state's 75 would be most of the feed's ORM work); none for other posts."""
    unit = principal.unit
    if unit.kind not in (UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE):
        return []
    return list(
        db.session.execute(
            select(Unit.id, Unit.name_en, Unit.name_hi)
            .where(Unit.kind == UnitKind.DISTRICT, unit.covers(Unit.path))
            .order_by(Unit.name_en)
        )
    )


def places_to_report(
    principal: Principal, ids=None, query: str = "", limit: int = MAX_PLACE_CHOICES
) -> list[Place]:
    """Places an incident may be reported for: those of the principal's subtree with ``ids``,
    or named like ``query``, or (for a station post) all of the station's; at most ``limit``,
    by name."""
    unit = principal.unit
    statement = select(Place).where(unit.covers(Place.unit_path))
    if ids is not None:
        statement = statement.where(Place.id.in_(ids))
    elif query:
        matching = search.matching_ids(search.PLACE, query, unit)
        if matching is None:
            return []
        statement = statement.where(Place.id.in_(matching))
    elif unit.kind != UnitKind.STATION:
        return []
    return list(db.session.scalars(statement.order_by(Place.name_en).limit(limit)))


def with_listing_details(query: Select) -> Select:
    """``query`` of incidents loading what a feed row shows (places with their stations, the
    district, the handler) in a few queries."""
    return query.options(
        selectinload(Incident.places).selectinload(IncidentPlace.place).selectinload(Place.station),
        selectinload(Incident.district),
        selectinload(Incident.handling_by),
    )


def feed_query(principal: Principal, filters: FeedFilters | None = None) -> Select:
    """Visible incidents matching ``filters``, newest report first."""
    filters = filters or FeedFilters()
    query = select(Incident).where(visible_incidents_condition(principal))
    if filters.district_id:
        query = query.where(Incident.district_id == filters.district_id)
    if filters.kind:
        query = query.where(Incident.kind == IncidentKind(filters.kind))
    if filters.status:
        query = query.where(Incident.status == IncidentStatus(filters.status))
    if filters.severity:
        query = query.where(Incident.severity == Severity(filters.severity))
    if filters.since is not None:
        query = query.where(Incident.reported_at >= filters.since)
    if filters.until is not None:
        query = query.where(Incident.reported_at < filters.until)
    if filters.open_only:
        query = query.where(Incident.status != IncidentStatus.CLOSED)
    number = (filters.number or "").strip()
    if number:
        # Two indexed equalities (the reference is unique, the UP-112 number indexed).
        spellings = list(dict.fromkeys([number, number.upper()]))
        query = query.where(
            or_(Incident.reference.in_(spellings), Incident.up112_number.in_(spellings))
        )
    return query.order_by(Incident.reported_at.desc(), Incident.id.desc())


def of_place(principal: Principal, place: Place, limit: int = 10) -> list[Incident]:
    """The latest incidents touching ``place`` that the principal may see, newest report first
    (the village page's list; read through the place's index on ``incident_places``)."""
    if not principal.can(Permission.VIEW_INCIDENTS):
        return []
    return list(
        db.session.scalars(
            select(Incident)
            .where(
                Incident.id.in_(
                    select(IncidentPlace.incident_id).where(IncidentPlace.place_id == place.id)
                ),
                visible_incidents_condition(principal),
            )
            .order_by(Incident.reported_at.desc(), Incident.id.desc())
            .limit(limit)
        )
    )


def review_queue(principal: Principal) -> Select:
    """Visible incidents not yet reviewed, oldest report first."""
    if not principal.can(Permission.REVIEW_INCIDENTS):
        return select(Incident).where(false())
    return (
        select(Incident)
        .where(visible_incidents_condition(principal), Incident.reviewed_at.is_(None))
        .order_by(Incident.reported_at, Incident.id)
    )


# ---- response times -------------------------------------------------------------------------


@dataclass
class ResponseTimes:
    """Report -> first call and report -> verdict; ``*_overdue`` when past the limit (or still
    missing after it)."""

    to_first_call: timedelta | None
    to_verdict: timedelta | None
    first_call_overdue: bool
    verdict_overdue: bool

    @property
    def overdue(self) -> bool:
        return self.first_call_overdue or self.verdict_overdue


def first_call_limit() -> timedelta:
    return timedelta(
        minutes=int(
            current_app.config.get("INCIDENT_FIRST_CALL_MINUTES", DEFAULT_FIRST_CALL_MINUTES)
        )
    )


def verdict_limit() -> timedelta:
    return timedelta(
        hours=float(current_app.config.get("INCIDENT_VERDICT_HOURS", DEFAULT_VERDICT_HOURS))
    )


def response_times(incident: Incident, *, now: datetime | None = None) -> ResponseTimes:
    """How long the first verification call and the verdict took, against the configured limits."""
    now = now or utcnow()

    def measure(at: datetime | None, limit: timedelta) -> tuple[timedelta | None, bool]:
        if at is None:
            return None, now - incident.reported_at > limit
        taken = at - incident.reported_at
        return taken, taken > limit

    to_first_call, first_late = measure(incident.first_call_at, first_call_limit())
    to_verdict, verdict_late = measure(incident.verdict_at, verdict_limit())
    return ResponseTimes(to_first_call, to_verdict, first_late, verdict_late)
