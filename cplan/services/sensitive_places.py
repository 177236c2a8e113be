"""Sensitive places: for one election, a village or ward (or one polling-booth location in it)
graded संवेदनशील / अति संवेदनशील / अति संवेदनशील प्लस with reasons from a fixed list, a note and
a reference (a file number: criminal records themselves stay out of cplan).

The SP office sets, changes and clears grades for the places of its district
(``MANAGE_SENSITIVE_PLACES`` at a district), and only for an election its district votes in.
Each change is one audit event (the level, reasons and booth before and after; whether a note
or reference was given, never their text, which may hold anything).

``active_grades(place_ids)`` answers the question every roster, coverage and incident page
asks: each place's highest grade in the election active for its district today
(``cplan.services.elections``), in one query besides the active-election one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.elections import (
    SENSITIVITY_RANK,
    Election,
    ElectionPhase,
    PhaseDistrict,
    SensitivePlace,
    SensitivityLevel,
    SensitivityReason,
)
from cplan.models.geo import Place, Unit, UnitKind
from cplan.services import audit, elections, geo
from cplan.services.errors import DomainError, NotAllowed, NotInScope
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

SET = "elections.place_graded"
CLEARED = "elections.place_grade_cleared"
MAX_NOTE_LENGTH = 2000
MAX_REFERENCE_LENGTH = 200
MAX_BOOTH_LENGTH = 200


class SensitivityError(DomainError):
    """A grade breaks a rule; nothing was changed. ``field`` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def may_grade(principal: Principal) -> bool:
    """True for the SP office: the permission, at a district."""
    return (
        principal.can(Permission.MANAGE_SENSITIVE_PLACES)
        and principal.unit.kind == UnitKind.DISTRICT
    )


def _require(principal: Principal) -> None:
    if not may_grade(principal):
        raise NotAllowed(
            "only the SP office grades places",
            refusal=_l("Only the SP office grades places for an election."),
        )


def votes_in(election: Election, district_id: int) -> bool:
    return (
        db.session.scalar(
            select(PhaseDistrict.id).where(
                PhaseDistrict.election_id == election.id,
                PhaseDistrict.district_id == district_id,
            )
        )
        is not None
    )


def get_district(principal: Principal, election: Election, unit_id: int) -> Unit:
    """A district that votes in ``election`` and that the principal's jurisdiction lies in or
    covers (a station sees its own part of the district's list), else ``NotInScope``."""
    district = db.session.get(Unit, unit_id)
    if (
        district is None
        or district.kind != UnitKind.DISTRICT
        or not (principal.unit.contains(district) or district.contains(principal.unit))
        or not votes_in(election, district.id)
    ):
        raise NotInScope()
    return district


# ---- checking what was given -------------------------------------------------------------------


def clean_reasons(codes) -> list[SensitivityReason]:
    """The reason codes, each from the fixed list, in the list's order, at least one."""
    given = set()
    for code in codes or []:
        try:
            given.add(SensitivityReason(str(code).strip()))
        except ValueError:
            raise SensitivityError(
                _l("%(code)s is not a reason on the list.", code=str(code)[:40]), "reasons"
            ) from None
    if not given:
        raise SensitivityError(_l("Choose at least one reason."), "reasons")
    return [reason for reason in SensitivityReason if reason in given]


def clean_text(value: str | None, limit: int, field: str) -> str:
    value = " ".join((value or "").split()) if field != "note" else (value or "").strip()
    if len(value) > limit:
        raise SensitivityError(_l("At most %(count)s characters.", count=limit), field)
    return value


# ---- changing ------------------------------------------------------------------------------------


def set_grade(
    principal: Principal,
    election: Election,
    place: Place,
    *,
    level: SensitivityLevel,
    reasons,
    note: str = "",
    reference: str = "",
    booth: str = "",
) -> SensitivePlace:
    """Grade ``place`` (or one booth location in it) for ``election``, or change its grade.
    The place must be in the principal's district and the district must vote in the election."""
    _require(principal)
    if not principal.unit.contains_path(place.unit_path):
        raise NotInScope()
    if not votes_in(election, place.district_id):
        raise SensitivityError(_l("This place's district does not vote in this election."))
    level = SensitivityLevel(level)
    codes = clean_reasons(reasons)
    note = clean_text(note, MAX_NOTE_LENGTH, "note")
    reference = clean_text(reference, MAX_REFERENCE_LENGTH, "reference")
    booth = clean_text(booth, MAX_BOOTH_LENGTH, "booth")
    # Two grades of the same place at once: the second waits for the first and changes it.
    db.session.execute(select(Place.id).where(Place.id == place.id).with_for_update())
    grade = db.session.scalar(
        select(SensitivePlace).where(
            SensitivePlace.election_id == election.id,
            SensitivePlace.place_id == place.id,
            SensitivePlace.booth == booth,
        )
    )
    before = _summary(grade) if grade else None
    if grade is None:
        grade = SensitivePlace(election_id=election.id, place_id=place.id, booth=booth)
        db.session.add(grade)
    grade.unit_path = place.unit_path
    grade.level = level
    grade.rank = SENSITIVITY_RANK[level]
    grade.reasons = ",".join(code.value for code in codes)
    grade.note = note
    grade.reference = reference
    grade.set_by_id = principal.officer.id
    grade.set_at = utcnow()
    db.session.flush()
    audit.record(
        SET,
        actor=principal,
        target=place,
        detail={
            "election_id": election.id,
            "before": before,
            "after": _summary(grade),
            "note_given": bool(note),
            "reference_given": bool(reference),
        },
    )
    return grade


def clear_grade(principal: Principal, grade: SensitivePlace) -> None:
    """Take the grade off (the audit trail keeps what it was)."""
    _require(principal)
    if not principal.unit.contains_path(grade.unit_path):
        raise NotInScope()
    before = _summary(grade)
    place = grade.place
    election_id = grade.election_id
    db.session.delete(grade)
    db.session.flush()
    audit.record(
        CLEARED,
        actor=principal,
        target=place,
        detail={"election_id": election_id, "before": before},
    )


def _summary(grade: SensitivePlace) -> dict:
    return {"level": grade.level.value, "reasons": grade.reasons, "booth": grade.booth}


# ---- reading -------------------------------------------------------------------------------------


def get_grade(principal: Principal, grade_id: int) -> SensitivePlace:
    grade = db.session.scalar(
        select(SensitivePlace)
        .options(joinedload(SensitivePlace.place))
        .where(SensitivePlace.id == grade_id, principal.unit.covers(SensitivePlace.unit_path))
    )
    if grade is None:
        raise NotInScope()
    return grade


def grades_of(principal: Principal, election: Election, district: Unit) -> list[SensitivePlace]:
    """The graded places of ``district`` the principal may see, most sensitive first."""
    return list(
        db.session.scalars(
            select(SensitivePlace)
            .join(Place, Place.id == SensitivePlace.place_id)
            .options(joinedload(SensitivePlace.place).joinedload(Place.station))
            .where(
                SensitivePlace.election_id == election.id,
                Place.district_id == district.id,
                principal.unit.covers(SensitivePlace.unit_path),
            )
            .order_by(SensitivePlace.rank.desc(), Place.name_en, SensitivePlace.booth)
        ).unique()
    )


def counts_by_level(grades: list[SensitivePlace]) -> dict[SensitivityLevel, int]:
    counts = Counter(grade.level for grade in grades)
    return {level: counts.get(level, 0) for level in reversed(list(SensitivityLevel))}


def active_grades(places) -> dict[int, SensitivePlace]:
    """{place id: its highest grade in the election active for its district today} for the
    given places (loaded ``Place`` objects); places without one are left out."""
    places = list(places)
    if not places:
        return {}
    phases = elections.active_phases({place.district_id for place in places})
    if not phases:
        return {}
    election_of = {district_id: phase.election_id for district_id, phase in phases.items()}
    wanted = {place.id: election_of.get(place.district_id) for place in places}
    wanted = {place_id: eid for place_id, eid in wanted.items() if eid is not None}
    if not wanted:
        return {}
    grades = db.session.scalars(
        select(SensitivePlace).where(
            SensitivePlace.place_id.in_(wanted),
            SensitivePlace.election_id.in_(set(wanted.values())),
        )
    )
    best: dict[int, SensitivePlace] = {}
    for grade in grades:
        if wanted.get(grade.place_id) != grade.election_id:
            continue
        known = best.get(grade.place_id)
        if known is None or grade.rank > known.rank:
            best[grade.place_id] = grade
    return best


@dataclass
class UnitSummary:
    """The election on in a unit's district and the unit's graded places by level."""

    phase: ElectionPhase
    district: Unit
    counts: dict[SensitivityLevel, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def unit_summary(principal: Principal, unit: Unit) -> UnitSummary | None:
    """For a district, circle or station: the active election of its district and the unit's
    graded places in it by level (the coverage page's box); None above districts or when no
    election is on."""
    district = unit if unit.kind == UnitKind.DISTRICT else geo.district_of(unit)
    if district is None:
        return None
    phase = elections.active_phase(district.id)
    if phase is None:
        return None
    rows = db.session.execute(
        select(SensitivePlace.level, func.count())
        .where(
            SensitivePlace.election_id == phase.election_id,
            unit.covers(SensitivePlace.unit_path),
            principal.unit.covers(SensitivePlace.unit_path),
        )
        .group_by(SensitivePlace.level)
    ).all()
    found = dict(rows)
    counts = {level: found.get(level, 0) for level in reversed(list(SensitivityLevel))}
    return UnitSummary(phase, district, counts)
