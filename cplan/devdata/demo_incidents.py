"""Demo incidents: three dozen rumours and incidents in Baghpat over the last four weeks.

Every status appears (new, verifying, the three verdicts, action taken, closed, and one reopened),
with the timelines an officer would leave: the move to verifying, calls to the affected places'
active contacts (outcomes that fit the verdict, and what each said), the verdict, action taken,
facts pushed to the public, an escalation, a correction, tips from contacts (one confidential),
"being handled by" markers and UP-112 supervisors' reviews. Some incidents are past the
first-call or verdict limits, so the feed has overdue rows to show.

Times are relative to the moment the demo is loaded (the incidents are always "recent").
Deterministic otherwise: one seeded random generator, places in natural-key order. Rows are written
directly with their past times (the services stamp "now"); references come from the same
per-district serial counter as real incidents, and each call updates the contact's last-verified
date or unreachable count as ``incidents.log_call`` does. One ``demo.incidents_loaded`` audit event
records the load. Idempotent: nothing is added when the district has incidents. Flushes, never
commits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from cplan.extensions import db
from cplan.models.accounts import Officer, Post, PostAssignment, Role
from cplan.models.base import utcnow
from cplan.models.geo import Place, Unit
from cplan.models.incidents import (
    ANSWERED_OUTCOMES,
    VERDICT_STATUSES,
    CallOutcome,
    EntryKind,
    Incident,
    IncidentKind,
    IncidentPlace,
    IncidentSource,
    IncidentStatus,
    Severity,
    TimelineEntry,
)
from cplan.models.roster import Contact, ContactStatus
from cplan.services import audit, incidents

S = IncidentStatus
K = IncidentKind
O = CallOutcome  # noqa: E741 (short names keep the scenario table readable)

# (kind, severity, source, summary). Summaries as a desk officer would type them.
REPORTS = [
    (
        K.RUMOUR,
        Severity.HIGH,
        IncidentSource.SOCIAL_MEDIA,
        "WhatsApp video claims a clash at the village pond; video looks old.",
    ),
    (
        K.RUMOUR,
        Severity.MEDIUM,
        IncidentSource.SOCIAL_MEDIA,
        "Message says children are being kidnapped by strangers in a white van.",
    ),
    (
        K.RUMOUR,
        Severity.HIGH,
        IncidentSource.UP112_CALL,
        "Caller says a temple idol was damaged at night; crowd may gather in the morning.",
    ),
    (
        K.COMMUNAL_TENSION,
        Severity.CRITICAL,
        IncidentSource.UP112_CALL,
        "Argument over a procession route; two groups gathering near the chaupal.",
    ),
    (
        K.DISPUTE_CLASH,
        Severity.MEDIUM,
        IncidentSource.FIELD_REPORT,
        "Land boundary dispute between two families over the chak road; sticks shown.",
    ),
    (
        K.DISPUTE_CLASH,
        Severity.HIGH,
        IncidentSource.UP112_CALL,
        "Fight at the sugar cane weighing centre over queue; one person injured.",
    ),
    (
        K.CRIME,
        Severity.MEDIUM,
        IncidentSource.UP112_CALL,
        "Tubewell motor and cable stolen from fields at night.",
    ),
    (
        K.CRIME,
        Severity.HIGH,
        IncidentSource.FIELD_REPORT,
        "Cattle theft reported from two houses; suspects left by tractor.",
    ),
    (
        K.ELECTION,
        Severity.MEDIUM,
        IncidentSource.CONTROL_ROOM,
        "Reports of liquor being distributed before the panchayat by-election.",
    ),
    (
        K.PROTEST_GATHERING,
        Severity.MEDIUM,
        IncidentSource.SOCIAL_MEDIA,
        "Farmers plan to block the state highway over cane payment dues.",
    ),
    (
        K.PROTEST_GATHERING,
        Severity.LOW,
        IncidentSource.FIELD_REPORT,
        "Villagers gathering at the power sub-station over long outages.",
    ),
    (
        K.RUMOUR,
        Severity.MEDIUM,
        IncidentSource.SOCIAL_MEDIA,
        "Post claims the canal embankment has breached and water is entering homes.",
    ),
    (
        K.OTHER,
        Severity.LOW,
        IncidentSource.UP112_CALL,
        "Loudspeaker dispute at a wedding late at night.",
    ),
    (
        K.RUMOUR,
        Severity.HIGH,
        IncidentSource.CONTROL_ROOM,
        "Rumour of poisoned sweets distributed at the weekly market.",
    ),
]

SAID = {
    O.CONFIRMED: [
        "Yes, I saw it myself.",
        "It is true, people are gathering.",
        "My neighbour was there; it happened.",
        "Haan, yeh sahi hai.",
        "हाँ, यह बात सही है।",
    ],
    O.DENIED: [
        "Nothing like this here, all calm.",
        "The video is from somewhere else.",
        "I am at the spot now; no such thing.",
        "सब शांत है, ऐसा कुछ नहीं हुआ।",
        "Sab theek hai yahan.",
    ],
    O.UNAWARE: [
        "I have not heard of this.",
        "I am out of the village today.",
        "मुझे इसकी जानकारी नहीं है।",
    ],
    O.NO_ANSWER: [""],
    O.SWITCHED_OFF: [""],
    O.WRONG_NUMBER: ["Number belongs to someone else now."],
}

# Final status of each demo incident, in order (36). "reopened" is closed, reopened, re-verified.
PLAN = (
    [S.NEW] * 4
    + [S.VERIFYING] * 4
    + [S.VERIFIED_TRUE] * 4
    + [S.FOUND_FALSE] * 6
    + [S.UNCONFIRMED] * 3
    + [S.ACTION_TAKEN] * 5
    + [S.CLOSED] * 9
    + ["reopened"]
)
OUTCOMES_FOR = {
    S.VERIFIED_TRUE: [O.CONFIRMED] * 5 + [O.UNAWARE, O.NO_ANSWER],
    S.FOUND_FALSE: [O.DENIED] * 5 + [O.UNAWARE, O.NO_ANSWER, O.SWITCHED_OFF],
    S.UNCONFIRMED: [O.UNAWARE] * 3 + [O.CONFIRMED, O.DENIED, O.NO_ANSWER, O.SWITCHED_OFF],
    S.VERIFYING: [O.UNAWARE, O.NO_ANSWER, O.CONFIRMED, O.DENIED],
}
REVIEW_COMMENTS = [
    "Handled in time.",
    "Good verification; facts put out quickly.",
    "First call was late; SHO to note.",
    "Keep watch on the area for two days.",
]
DAYS_BACK = 28


@dataclass
class _Actors:
    """Who does what: station officers by station id, the SP office, the control room."""

    by_station: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    district: tuple[int, int] | None = None
    control_room: list[tuple[int, int]] = field(default_factory=list)

    def for_station(self, station_id: int) -> tuple[int, int]:
        return (self.by_station.get(station_id) or [self.district])[0]


def _actors(state: Unit, district: Unit) -> _Actors:
    actors = _Actors()
    rows = db.session.execute(
        select(Officer.id, Post.id, Post.role, Unit.id, Unit.path)
        .join(PostAssignment, PostAssignment.officer_id == Officer.id)
        .join(Post, Post.id == PostAssignment.post_id)
        .join(Unit, Unit.id == Post.unit_id)
        .where(PostAssignment.ended_at.is_(None), Post.active.is_(True), state.covers(Unit.path))
        .order_by(Post.role, Officer.pno)
    )
    for officer_id, post_id, role, unit_id, path in rows:
        pair = (officer_id, post_id)
        if role == Role.CONTROL_ROOM:
            actors.control_room.append(pair)
        elif role == Role.SP_OFFICE and unit_id == district.id:
            actors.district = pair
        elif role in (Role.STATION_OFFICER, Role.CONSTABLE) and path.startswith(district.path):
            actors.by_station.setdefault(unit_id, []).append(pair)
    return actors


class _Timeline:
    """Entries of one incident in order, each stamped with its own past time."""

    def __init__(self, incident: Incident):
        self.incident = incident
        self.seq = 0

    def add(self, at: datetime, kind: EntryKind, actor: tuple[int, int], **fields) -> TimelineEntry:
        self.seq += 1
        entry = TimelineEntry(
            incident_id=self.incident.id,
            seq=self.seq,
            at=at,
            kind=kind,
            officer_id=actor[0],
            post_id=actor[1],
            **fields,
        )
        db.session.add(entry)
        return entry

    def status(self, at: datetime, actor, to: IncidentStatus, text: str = "") -> None:
        incidents.check_transition(self.incident.status, to)  # the app's own workflow
        self.add(
            at,
            EntryKind.STATUS_CHANGE,
            actor,
            from_status=self.incident.status,
            to_status=to,
            text=text,
        )
        self.incident.status = to
        self.incident.version += 1
        if to in VERDICT_STATUSES and self.incident.verdict_at is None:
            self.incident.verdict_at = at


def ensure_demo_incidents(state: Unit, district: Unit) -> list[str]:
    """Create the demo incidents unless the district has some; returns what was done."""
    if db.session.scalar(select(Incident.id).where(Incident.district_id == district.id).limit(1)):
        return []
    actors = _actors(state, district)
    if actors.district is None or not actors.control_room:
        return ["incidents: skipped (no demo posts)"]
    places = list(
        db.session.scalars(
            select(Place)
            .where(
                Place.district_id == district.id,
                Place.station_id.is_not(None),
                Place.uninhabited.is_(False),
            )
            .order_by(Place.natural_key)
        )
    )
    contacts: dict[int, list[Contact]] = {}
    for contact in db.session.scalars(
        select(Contact)
        .where(
            district.covers(Contact.unit_path),
            Contact.status == ContactStatus.ACTIVE,
            Contact.confidential.is_(False),
        )
        .order_by(Contact.id)
    ):
        contacts.setdefault(contact.place_id, []).append(contact)
    places = [place for place in places if len(contacts.get(place.id, ())) >= 5]
    # The stations with demo officers first, so their officers have incidents to work on.
    places.sort(key=lambda place: (place.station_id not in actors.by_station, place.natural_key))
    if not places:
        return ["incidents: skipped (no places with contacts)"]
    rng = random.Random("cplan-demo-incidents")
    now = utcnow()
    made = []
    for number, final in enumerate(PLAN):
        made.append(_make_incident(number, final, rng, now, district, places, contacts, actors))
    db.session.flush()
    audit.record("demo.incidents_loaded", unit=district, detail={"created": len(made)})
    counts = {
        status.value: sum(1 for incident in made if incident.status == status) for status in S
    }
    return [
        f"incidents: {len(made)} over the last {DAYS_BACK} days "
        + ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    ]


def _make_incident(
    number: int,
    final,
    rng: random.Random,
    now: datetime,
    district: Unit,
    places: list[Place],
    contacts: dict[int, list[Contact]],
    actors: _Actors,
) -> Incident:
    reopened = final == "reopened"
    final = S.VERIFIED_TRUE if reopened else final
    kind, severity, source, summary = REPORTS[number % len(REPORTS)]
    # Open incidents are recent (hours); settled ones spread over the four weeks.
    if final in (S.NEW, S.VERIFYING):
        reported = now - timedelta(minutes=rng.randrange(20, 60 * 20))
    else:
        reported = now - timedelta(days=rng.uniform(1, DAYS_BACK))
    reported = reported.replace(second=0, microsecond=0)
    first_place = places[(number * 7) % min(len(places), 60)]
    chosen = [first_place]
    if number % 4 == 1:  # a quarter span two places, sometimes of two stations
        chosen.append(places[(number * 7 + 31) % min(len(places), 90)])
    chosen = list({place.id: place for place in chosen}.values())
    station_actor = actors.for_station(first_place.station_id)
    tip_contact = None
    if number in (9, 21, 30):  # tips from contacts
        source, kind, severity = IncidentSource.CONTACT_TIP, K.CRIME, Severity.MEDIUM
        tip_contact = contacts[first_place.id][0]
        summary = [
            "Contact reports illegal liquor being brewed in the fields near the canal.",
            "Contact names two youths selling smack near the inter college.",
            "Contact says stolen motorcycles are being dismantled at a workshop.",
        ][number % 3]
    year = reported.astimezone(incidents.IST).year
    serial = incidents.next_serial(district.id, year)
    incident = Incident(
        reference=incidents.reference_for(district, year, serial),
        district_id=district.id,
        year=year,
        serial=serial,
        up112_number=f"P{reported:%y%m%d}{rng.randrange(1000, 9999)}"
        if source == IncidentSource.UP112_CALL
        else None,
        kind=kind,
        severity=severity,
        source=source,
        occurred_at=reported - timedelta(minutes=rng.randrange(10, 150)),
        reported_at=reported,
        summary=summary,
        status=S.NEW,
        confidential=number == 30,
        version=1,
        last_entry_seq=0,
        created_at=reported,
        updated_at=reported,
        created_by_officer_id=station_actor[0],
        created_by_post_id=station_actor[1],
    )
    db.session.add(incident)
    db.session.flush()
    for place in chosen:
        db.session.add(
            IncidentPlace(incident_id=incident.id, place_id=place.id, unit_path=place.unit_path)
        )
    timeline = _Timeline(incident)
    at = reported + timedelta(minutes=rng.randrange(1, 5))
    if tip_contact is not None:
        timeline.add(at, EntryKind.NOTE, station_actor, contact_id=tip_contact.id)
    # Some incidents were slow to start: past the first-call limit.
    late = number % 5 == 3
    verdict = (
        final
        if final in VERDICT_STATUSES
        else (S.FOUND_FALSE if kind == K.RUMOUR else S.VERIFIED_TRUE)
    )
    if final != S.NEW:
        at += timedelta(minutes=rng.randrange(3, 15) + (45 if late else 0))
        timeline.status(at, station_actor, S.VERIFYING)
        called = _calls(
            timeline,
            at,
            rng,
            chosen,
            contacts,
            station_actor,
            OUTCOMES_FOR[verdict if final != S.VERIFYING else S.VERIFYING],
            4 if final == S.VERIFYING else rng.randrange(4, 8),
        )
        at = called + timedelta(minutes=rng.randrange(5, 30))
    if severity == Severity.CRITICAL and final != S.NEW:
        timeline.add(
            at,
            EntryKind.ESCALATION,
            station_actor,
            escalated_to_unit_id=district.id,
            text="Crowd building; SP office informed, extra force requested.",
        )
    if final not in (S.NEW, S.VERIFYING):
        at += timedelta(minutes=rng.randrange(10, 90) + (60 * 7 if number % 7 == 2 else 0))
        timeline.status(at, station_actor, verdict)
        if verdict == S.FOUND_FALSE:
            at += timedelta(minutes=rng.randrange(5, 40))
            timeline.add(
                at,
                EntryKind.PUBLIC_MESSAGE,
                station_actor,
                text="Facts posted on the district's X handle and shared in the village WhatsApp "
                "groups.",
            )
        if number == 14:  # a correction of a mistyped note
            at += timedelta(minutes=12)
            wrong = timeline.add(
                at,
                EntryKind.NOTE,
                station_actor,
                text="Beat constable sent to the spot, 5 persons present.",
            )
            db.session.flush()
            timeline.add(
                at + timedelta(minutes=4),
                EntryKind.CORRECTION,
                station_actor,
                corrects_entry_id=wrong.id,
                text="Correction: 15 persons were present, not 5.",
            )
    if final in (S.ACTION_TAKEN, S.CLOSED) or reopened:
        if incident.status != S.FOUND_FALSE or final == S.ACTION_TAKEN:
            at += timedelta(hours=rng.uniform(1, 10))
            timeline.status(
                at,
                station_actor,
                S.ACTION_TAKEN,
                "Peace committee met; picket posted."
                if kind != K.CRIME
                else "FIR registered; search on.",
            )
        if final == S.CLOSED or reopened:
            at += timedelta(hours=rng.uniform(2, 30))
            timeline.status(at, station_actor, S.CLOSED, "Situation normal.")
    if reopened:
        at += timedelta(hours=rng.uniform(2, 20))
        timeline.status(
            at, station_actor, S.VERIFYING, "Fresh posts about the same matter; verifying again."
        )
        called = _calls(
            timeline, at, rng, chosen, contacts, station_actor, OUTCOMES_FOR[S.VERIFIED_TRUE], 3
        )
        timeline.status(called + timedelta(minutes=20), station_actor, S.VERIFIED_TRUE)
        at = called + timedelta(minutes=20)
    supervisor = actors.control_room[number % len(actors.control_room)]
    if final in (S.NEW, S.VERIFYING) and number % 2 == 0:
        incident.handling_by_officer_id, incident.handling_since = supervisor[0], at
    if final in (S.CLOSED, S.ACTION_TAKEN, S.FOUND_FALSE) and number % 3 != 0 and not reopened:
        at += timedelta(hours=rng.uniform(1, 12))
        comment = REVIEW_COMMENTS[number % len(REVIEW_COMMENTS)]
        timeline.add(at, EntryKind.REVIEW, supervisor, text=comment)
        incident.reviewed_at, incident.reviewed_by_officer_id, incident.review_comment = (
            at,
            supervisor[0],
            comment,
        )
    incident.last_entry_seq = timeline.seq
    incident.updated_at = max(at, reported)
    return incident


def _calls(
    timeline: _Timeline,
    at: datetime,
    rng: random.Random,
    chosen: list[Place],
    contacts: dict[int, list[Contact]],
    actor,
    outcomes: list[CallOutcome],
    count: int,
) -> datetime:
    """``count`` calls to the affected places' contacts, updating them as a real call does."""
    pool = [contact for place in chosen for contact in contacts.get(place.id, [])]
    for contact in rng.sample(pool, min(count, len(pool))):
        at += timedelta(minutes=rng.randrange(2, 9))
        outcome = rng.choice(outcomes)
        timeline.add(
            at,
            EntryKind.CALL,
            actor,
            contact_id=contact.id,
            call_outcome=outcome,
            text=rng.choice(SAID[outcome]),
        )
        if timeline.incident.first_call_at is None:
            timeline.incident.first_call_at = at
        if outcome in ANSWERED_OUTCOMES:
            if contact.last_verified_at is None or contact.last_verified_at < at:
                contact.last_verified_at = at
        else:
            contact.unreachable_count += 1
    return at
