"""Elections, their phases and the districts that vote in each; and which election is *active*
for a district or a place, the one question rosters, drives and broadcasts ask.

Only the state control room creates an election (``MANAGE_ELECTIONS`` and a post at the state
unit): a poll is notified for the whole state, and its phases name districts of every zone.
A phase's poll date may not fall before the notification; a district votes in one phase of an
election. Creating an election, and adding phases from a file, write one audit event each.

**The active-election rule** (``active_phase``): an election is active for a district from the
day its phases are known until ``ACTIVE_DAYS_AFTER_POLL`` days after the poll date of the
district's phase (IST calendar days). The days after the poll cover counting (2 May 2021, three
days after the last phase) and the tension that follows results. When two elections are active
for one district (a bye-election beside a general one), the one whose poll comes first wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload

from cplan.extensions import db
from cplan.formats import ist_day
from cplan.models.base import utcnow
from cplan.models.elections import (
    Election,
    ElectionAuthority,
    ElectionKind,
    ElectionPhase,
    ElectionRole,
    PhaseDistrict,
    SensitivityLevel,
    SensitivityReason,
)
from cplan.models.geo import Place, Unit, UnitKind
from cplan.services import audit
from cplan.services.errors import DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

#: Days after a district's poll during which its election is still active (counting, results).
ACTIVE_DAYS_AFTER_POLL = 7
MAX_PHASES = 9
MAX_NAME_LENGTH = 200
CREATED = "elections.created"
PHASES_ADDED = "elections.phases_added"

KIND_LABELS = {
    ElectionKind.GRAM_PANCHAYAT: _l("Gram panchayat"),
    ElectionKind.URBAN_LOCAL_BODY: _l("Urban local body"),
    ElectionKind.VIDHAN_SABHA: _l("Vidhan Sabha"),
    ElectionKind.LOK_SABHA: _l("Lok Sabha"),
    ElectionKind.BYE_ELECTION: _l("Bye-election"),
}
AUTHORITY_LABELS = {
    ElectionAuthority.STATE_ELECTION_COMMISSION: _l("State Election Commission"),
    ElectionAuthority.ELECTION_COMMISSION_OF_INDIA: _l("Election Commission of India"),
}

# A badge names the level in Hindi on every page: the words UP Police use for it.
LEVEL_HINDI = {
    SensitivityLevel.SENSITIVE: "संवेदनशील",
    SensitivityLevel.HYPER_SENSITIVE: "अति संवेदनशील",
    SensitivityLevel.HYPER_SENSITIVE_PLUS: "अति संवेदनशील प्लस",
}
# The levels are named in Hindi by UP Police in both languages' pages (the English in brackets).
LEVEL_LABELS = {
    SensitivityLevel.SENSITIVE: _l("संवेदनशील (sensitive)"),
    SensitivityLevel.HYPER_SENSITIVE: _l("अति संवेदनशील (hyper-sensitive)"),
    SensitivityLevel.HYPER_SENSITIVE_PLUS: _l("अति संवेदनशील प्लस (hyper-sensitive plus)"),
}
REASON_LABELS = {
    SensitivityReason.PAST_POLL_VIOLENCE: _l("Violence at earlier polls"),
    SensitivityReason.VOTERS_PREVENTED: _l("Voters prevented from voting"),
    SensitivityReason.COMMUNAL_TENSION: _l("Communal tension"),
    SensitivityReason.CASTE_TENSION: _l("Caste tension"),
    SensitivityReason.CANDIDATE_CRIMINAL_RECORD: _l("A candidate with a criminal record"),
    SensitivityReason.EARLIER_REPOLL: _l("Repoll at an earlier election"),
    SensitivityReason.BOOTH_CAPTURING: _l("Booth capturing"),
    SensitivityReason.REMOTE_OR_INACCESSIBLE: _l("Remote or hard to reach"),
    SensitivityReason.OTHER: _l("Other (see the note)"),
}
ROLE_LABELS = {
    ElectionRole.CANDIDATE: _l("Candidate"),
    ElectionRole.POLLING_AGENT: _l("Polling agent"),
    ElectionRole.COUNTING_AGENT: _l("Counting agent"),
    ElectionRole.PARTY_OFFICE_BEARER: _l("Party office-bearer"),
    ElectionRole.CANDIDATE_RELATIVE: _l("Candidate's close relative"),
}
LABELS = {
    "kind": KIND_LABELS,
    "authority": AUTHORITY_LABELS,
    "level": LEVEL_LABELS,
    "reason": REASON_LABELS,
    "role": ROLE_LABELS,
}


def label(group: str, value) -> str:
    """The translated label of an election value (``election_label`` in templates)."""
    text = LABELS[group].get(value)
    return str(text) if text is not None else str(getattr(value, "value", value) or "")


def role_choices() -> list[tuple[str, str]]:
    """(value, translated label) of each part a contact may take in an election."""
    return [(role.value, str(text)) for role, text in ROLE_LABELS.items()]


class ElectionError(DomainError):
    """An election or its phases break a rule; nothing was changed. ``field`` names the form
    field the refusal belongs beside, when there is one."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class PhasePlan:
    """One phase to create: its number, poll date and the districts (units) that vote in it."""

    number: int
    poll_date: date
    districts: list[Unit] = field(default_factory=list)


def today() -> date:
    """Today in India: the day the active-election rule counts in."""
    return ist_day(utcnow())


def may_manage(principal: Principal) -> bool:
    """True for the state control room: the permission, at the state unit."""
    return principal.can(Permission.MANAGE_ELECTIONS) and principal.unit.kind == UnitKind.STATE


def _require_manager(principal: Principal) -> None:
    if not may_manage(principal):
        raise NotAllowed(
            "only the state control room manages elections",
            refusal=_l("Only the state control room creates elections and their phases."),
        )


# ---- reading ---------------------------------------------------------------------------------


def list_elections() -> list[Election]:
    """Every election, the latest poll first (an election is public knowledge: no scope)."""
    elections = db.session.scalars(
        select(Election).options(selectinload(Election.phases)).order_by(Election.id.desc())
    ).all()
    return sorted(elections, key=lambda e: last_poll(e) or date.min, reverse=True)


def get_election(election_id: int) -> Election:
    election = db.session.get(Election, election_id)
    if election is None:
        raise NotInScope()
    return election


def last_poll(election: Election) -> date | None:
    return max((phase.poll_date for phase in election.phases), default=None)


def phase_districts(election: Election) -> dict[int, list[Unit]]:
    """Each phase's districts by name: {phase id: [district, ...]} (one query)."""
    rows = db.session.execute(
        select(PhaseDistrict.phase_id, Unit)
        .join(Unit, Unit.id == PhaseDistrict.district_id)
        .where(PhaseDistrict.election_id == election.id)
        .order_by(Unit.name_en)
    ).all()
    by_phase: dict[int, list[Unit]] = {phase.id: [] for phase in election.phases}
    for phase_id, district in rows:
        by_phase.setdefault(phase_id, []).append(district)
    return by_phase


def districts() -> list[Unit]:
    """Every active district, by name (the choices of a phase)."""
    return list(
        db.session.scalars(
            select(Unit)
            .where(Unit.kind == UnitKind.DISTRICT, Unit.active.is_(True))
            .order_by(Unit.name_en)
        )
    )


def districts_in_scope(principal: Principal, election: Election) -> list[Unit]:
    """The districts of ``election`` that the principal's jurisdiction covers or lies in (a
    station post: its own district when it votes)."""
    return [
        district
        for districts in phase_districts(election).values()
        for district in districts
        if principal.unit.contains(district) or district.contains(principal.unit)
    ]


# ---- the active-election rule ------------------------------------------------------------------


def active_window_start(on: date, days_after_poll: int) -> date:
    """The earliest poll date still active on ``on``."""
    return on - timedelta(days=days_after_poll)


def active_phases(
    district_ids, on: date | None = None, days_after_poll: int = ACTIVE_DAYS_AFTER_POLL
) -> dict[int, ElectionPhase]:
    """{district id: the active phase (with its election)} for the given districts, by the rule
    in the module docstring; districts without an active election are left out. One query,
    asked once per transaction: a roster asks it for its grade, its marks and its grading link.
    """
    district_ids = frozenset(district_ids)
    if not district_ids:
        return {}
    on = on or today()
    memo = db.session.info.setdefault(_ACTIVE_PHASES, {})
    key = (district_ids, on, days_after_poll)
    if key in memo:
        return dict(memo[key])
    rows = db.session.execute(
        select(PhaseDistrict.district_id, ElectionPhase)
        .join(ElectionPhase, ElectionPhase.id == PhaseDistrict.phase_id)
        .options(selectinload(ElectionPhase.election))
        .where(
            PhaseDistrict.district_id.in_(district_ids),
            ElectionPhase.poll_date >= active_window_start(on, days_after_poll),
        )
        .order_by(ElectionPhase.poll_date, ElectionPhase.id)
    ).all()
    active: dict[int, ElectionPhase] = {}
    for district_id, phase in rows:
        active.setdefault(district_id, phase)  # the first poll wins
    memo[key] = active
    return dict(active)


# The memo of ``active_phases``: valid while the transaction has written nothing (a flush may
# be a new election or phase), forgotten at its end (a request's session ends with it).
_ACTIVE_PHASES = "cplan_active_phases"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def forget_active_phases(session: Session, *_context) -> None:
    """Drop ``session``'s memo of ``active_phases`` (done after every write and transaction)."""
    session.info.pop(_ACTIVE_PHASES, None)


def active_phase(
    district_id: int, on: date | None = None, days_after_poll: int = ACTIVE_DAYS_AFTER_POLL
) -> ElectionPhase | None:
    """The phase of the election active for one district (``phase.election`` is the election),
    or None. Rosters, drives and broadcasts call this (or ``active_election_for_place``)."""
    return active_phases([district_id], on, days_after_poll).get(district_id)


def active_election_for_place(place: Place, on: date | None = None) -> Election | None:
    """The election active in the place's district today (see the module docstring), or None."""
    phase = active_phase(place.district_id, on)
    return phase.election if phase else None


# ---- creating ----------------------------------------------------------------------------------


def clean_name(value: str, field_name: str, required: bool) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise ElectionError(_l("Give the election a name."), field_name)
    if len(value) > MAX_NAME_LENGTH:
        raise ElectionError(_l("At most %(count)s characters.", count=MAX_NAME_LENGTH), field_name)
    return value


def check_phases(
    election_notified_on: date | None,
    plans: list[PhasePlan],
    existing: list[ElectionPhase] = (),
    existing_districts: dict[int, int] | None = None,
) -> None:
    """Refuse phases that break a rule: a poll before the notification, a phase number given
    twice with two dates, a district in two phases (here or already in the election)."""
    dates = {phase.number: phase.poll_date for phase in existing}
    district_phase = dict(existing_districts or {})
    for plan in plans:
        if not 1 <= plan.number <= MAX_PHASES:
            raise ElectionError(
                _l("A phase is numbered from 1 to %(count)s.", count=MAX_PHASES), None
            )
        if election_notified_on and plan.poll_date < election_notified_on:
            raise ElectionError(
                _l(
                    "Phase %(number)s polls before the election was notified.",
                    number=plan.number,
                ),
                None,
            )
        if dates.setdefault(plan.number, plan.poll_date) != plan.poll_date:
            raise ElectionError(
                _l("Phase %(number)s is given two poll dates.", number=plan.number), None
            )
        for district in plan.districts:
            other = district_phase.setdefault(district.id, plan.number)
            if other != plan.number:
                raise ElectionError(
                    _l(
                        "%(district)s is in phase %(first)s and phase %(second)s; a district "
                        "votes in one phase.",
                        district=district.name_en,
                        first=other,
                        second=plan.number,
                    ),
                    None,
                )


def create_election(
    principal: Principal,
    *,
    kind: ElectionKind,
    authority: ElectionAuthority,
    name_en: str,
    name_hi: str = "",
    notified_on: date | None = None,
    phases: list[PhasePlan] = (),
) -> Election:
    """Create an election with its phases and their districts (state control room); audited."""
    _require_manager(principal)
    name_en = clean_name(name_en, "name_en", required=True)
    name_hi = clean_name(name_hi, "name_hi", required=False)
    phases = list(phases)
    check_phases(notified_on, phases)
    election = Election(
        kind=ElectionKind(kind),
        authority=ElectionAuthority(authority),
        name_en=name_en,
        name_hi=name_hi,
        notified_on=notified_on,
        created_by_id=principal.officer.id,
    )
    db.session.add(election)
    db.session.flush()
    _add_phases(election, phases)
    audit.record(
        CREATED,
        actor=principal,
        target=election,
        detail={
            "kind": election.kind.value,
            "authority": election.authority.value,
            "notified_on": notified_on.isoformat() if notified_on else None,
            "phases": {str(p.number): p.poll_date.isoformat() for p in phases},
            "districts": sum(len(p.districts) for p in phases),
        },
    )
    return election


def existing_district_phases(election: Election) -> dict[int, int]:
    """{district id: phase number} of the districts already in ``election``."""
    return dict(
        db.session.execute(
            select(PhaseDistrict.district_id, ElectionPhase.number)
            .join(ElectionPhase, ElectionPhase.id == PhaseDistrict.phase_id)
            .where(PhaseDistrict.election_id == election.id)
        ).all()
    )


def add_phases(
    principal: Principal, election: Election, phases: list[PhasePlan], *, source: str = "form"
) -> int:
    """Add phases (or districts to existing phases with the same poll date) to an election, all
    or nothing; returns the number of districts added. Audited as one event."""
    _require_manager(principal)
    phases = list(phases)
    check_phases(election.notified_on, phases, election.phases, existing_district_phases(election))
    added = _add_phases(election, phases)
    audit.record(
        PHASES_ADDED,
        actor=principal,
        target=election,
        detail={
            "source": source,
            "phases": {str(p.number): p.poll_date.isoformat() for p in phases},
            "districts": added,
        },
    )
    return added


def _add_phases(election: Election, plans: list[PhasePlan]) -> int:
    by_number = {phase.number: phase for phase in election.phases}
    known = existing_district_phases(election)
    added = 0
    for plan in sorted(plans, key=lambda p: p.number):
        phase = by_number.get(plan.number)
        if phase is None:
            phase = ElectionPhase(election=election, number=plan.number, poll_date=plan.poll_date)
            db.session.add(phase)
            by_number[plan.number] = phase
            db.session.flush()
        for district in plan.districts:
            if district.id in known:
                continue
            known[district.id] = plan.number
            db.session.add(
                PhaseDistrict(election_id=election.id, phase_id=phase.id, district_id=district.id)
            )
            added += 1
    db.session.flush()
    db.session.refresh(election, ["phases"])
    return added
