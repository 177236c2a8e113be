"""What each post's home page shows first: the work waiting for it now.

Three homes, by where the post sits:

- a **station** (constable, SHO): the station's villages with their active contacts against the
  target, the station's open incidents, and the officer's own submissions still waiting or
  sent back;
- an **office** over stations (circle officer, ASP, SP office): open and overdue incidents,
  pending approvals by age, coverage per police station, escalations addressed to the office;
- a **control room** over districts (UP-112 / DGP): open incidents per district, the newest
  critical and high ones first, escalations addressed to the control room.

Every figure is a grouped query over an indexed range (the unit's path, an incident's status or
district) or over the counts places keep (``places.active_contacts``, kept by triggers): no
figure counts a district's contacts one by one. Everything is read through the reader's
visibility rules (``roster.visible_condition``, ``incidents.visible_incidents_condition``,
``coverage.visible_active``), so a home page shows nothing its post could not open.
"""

from __future__ import annotations

import enum
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal_column, or_, select, union_all

from cplan.extensions import db
from cplan.formats import IST
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.incidents import EntryKind, Incident, IncidentStatus, Severity, TimelineEntry
from cplan.models.roster import Contact, ContactStatus
from cplan.services import coverage, incidents, roster
from cplan.services.permissions import STATION_ROLES, Permission
from cplan.services.principal import Principal

S = IncidentStatus
OPEN_STATUSES = tuple(status for status in IncidentStatus if status != S.CLOSED)
# Rows of each list on a home page: the first screen, not a report.
LIST_LIMIT = 10
# Days of the "incidents per day" chart.
CHART_DAYS = 14


class Home(enum.StrEnum):
    """Which home page a post gets."""

    STATION = "station"
    OFFICE = "office"
    CONTROL_ROOM = "control_room"
    PLAIN = "plain"  # the state administrator: geography and accounts, no casework


def home_of(principal: Principal) -> Home:
    if principal.role in STATION_ROLES:
        return Home.STATION
    if not principal.can(Permission.VIEW_INCIDENTS):
        return Home.PLAIN
    if principal.unit.kind in (UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE):
        return Home.CONTROL_ROOM
    return Home.OFFICE


# ---- pieces shared by the homes ----------------------------------------------------------------


def open_condition():
    """SQL: the incident is not closed, written as the open-incident partial indexes' condition
    (``OPEN_PREDICATE``, a literal rather than a bound value, so SQLite uses them too)."""
    return Incident.status != literal_column("'closed'")


def awaiting_condition():
    """SQL: open and still without a first call or a verdict (``ix_incidents_awaiting``)."""
    return and_(
        open_condition(),
        or_(Incident.first_call_at.is_(None), Incident.verdict_at.is_(None)),
    )


def overdue_condition(now: datetime):
    """SQL: an open incident still waiting for its first call or its verdict past the limit
    (``incidents.first_call_limit`` / ``verdict_limit``), as the feed marks it."""
    return and_(
        awaiting_condition(),
        or_(
            and_(
                Incident.first_call_at.is_(None),
                Incident.reported_at < now - incidents.first_call_limit(),
            ),
            and_(
                Incident.verdict_at.is_(None),
                Incident.reported_at < now - incidents.verdict_limit(),
            ),
        ),
    )


# Most severe first: the order of the home pages' incident lists.
SEVERITY_ORDER = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
SEVERE = (Severity.CRITICAL, Severity.HIGH)


def urgent_incidents(principal: Principal, limit: int = LIST_LIMIT) -> list[Incident]:
    """Open incidents the post may see, the most severe first and, within a severity, the
    newest report first (with what a feed row shows).

    The candidates are the newest ``limit`` open incidents of each severity, each read in
    order from an open-incident index (statewide or the district's) within one statement,
    rather than every open incident sorted by a computed rank."""
    candidates = union_all(
        *(
            select(newest.c.id)
            for newest in (
                select(Incident.id)
                .where(
                    open_condition(),
                    Incident.severity == severity,
                    incidents.visible_incidents_condition(principal),
                )
                .order_by(Incident.reported_at.desc(), Incident.id.desc())
                .limit(limit)
                .subquery()
                for severity in SEVERITY_ORDER
            )
        )
    )
    rank = case(
        *((Incident.severity == severity, n) for n, severity in enumerate(SEVERITY_ORDER)),
        else_=len(SEVERITY_ORDER),
    )
    query = (
        select(Incident)
        .where(Incident.id.in_(candidates))
        .order_by(rank, Incident.reported_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(incidents.with_listing_details(query)))


@dataclass
class IncidentCounts:
    open: int = 0
    overdue: int = 0
    critical: int = 0


def incident_counts(principal: Principal, now: datetime) -> IncidentCounts:
    """Open, overdue and open critical-or-high incidents the post may see (two queries: the
    open ones by severity, and the overdue among those still awaiting a call or a verdict,
    each from its partial index)."""
    by_severity = dict(
        db.session.execute(
            select(Incident.severity, func.count())
            .where(open_condition(), incidents.visible_incidents_condition(principal))
            .group_by(Incident.severity)
        ).all()
    )
    overdue = db.session.scalar(
        select(func.count()).where(
            overdue_condition(now), incidents.visible_incidents_condition(principal)
        )
    )
    return IncidentCounts(
        open=sum(by_severity.values()),
        overdue=int(overdue or 0),
        critical=sum(by_severity.get(severity, 0) for severity in SEVERE),
    )


@dataclass
class Escalation:
    incident: Incident
    at: datetime
    text: str


def escalations_to(principal: Principal, limit: int = LIST_LIMIT) -> list[Escalation]:
    """Open incidents escalated to the post's own unit, the latest escalation first."""
    rows = db.session.execute(
        select(Incident, TimelineEntry.at, TimelineEntry.text)
        .join(TimelineEntry, TimelineEntry.incident_id == Incident.id)
        .where(
            TimelineEntry.escalated_to_unit_id == principal.unit.id,
            TimelineEntry.kind == EntryKind.ESCALATION,
            incidents.visible_incidents_condition(principal),
            open_condition(),
        )
        .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
        .limit(limit)
    )
    return [Escalation(incident, at, text) for incident, at, text in rows]


# ---- approvals by age ---------------------------------------------------------------------------

# (label key, lower bound in days inclusive, upper bound exclusive or None)
AGE_BUCKETS = (("today", 0, 1), ("week", 1, 7), ("month", 7, 30), ("older", 30, None))
AGE_LABELS = {
    "today": _l("Under a day"),
    "week": _l("1 to 7 days"),
    "month": _l("7 to 30 days"),
    "older": _l("Over 30 days"),
}


def approvals_by_age(principal: Principal, now: datetime) -> dict[str, int]:
    """Pending enrolments the post may decide, counted by how long they have waited (one
    grouped query over the pending rows of the post's subtree)."""
    if not principal.can(Permission.APPROVE_ENROLMENT):
        return {}
    columns = []
    for key, low, high in AGE_BUCKETS:
        conditions = [Contact.enrolled_at <= now - timedelta(days=low)]
        if high is not None:
            conditions.append(Contact.enrolled_at > now - timedelta(days=high))
        columns.append(func.sum(case((and_(*conditions), 1), else_=0)).label(key))
    row = db.session.execute(
        select(*columns).where(
            Contact.status == ContactStatus.PENDING, roster.visible_condition(principal)
        )
    ).one()
    return {
        key: int(value or 0) for (key, _low, _high), value in zip(AGE_BUCKETS, row, strict=True)
    }


# ---- coverage per station ----------------------------------------------------------------------


@dataclass
class StationCoverage:
    station: Unit | None  # None: places not yet attached to a station
    inhabited: int
    meeting: int
    active: int

    @property
    def percent(self) -> int:
        return round(100 * self.meeting / self.inhabited) if self.inhabited else 0


def coverage_per_station(principal: Principal, unit: Unit) -> list[StationCoverage]:
    """Inhabited places per police station under ``unit`` and how many meet the target, from
    the counts places keep (one grouped query over the unit's places, one for the stations);
    the least covered station first."""
    goal = coverage.target()
    count = coverage.visible_active(principal)
    rows = db.session.execute(
        select(
            Place.unit_path,
            func.count(Place.id),
            func.sum(case((count >= goal, 1), else_=0)),
            func.sum(count),
        )
        .where(unit.covers(Place.unit_path), Place.uninhabited.is_(False))
        .group_by(Place.unit_path)
    ).all()
    stations = {
        station.path: station
        for station in db.session.scalars(
            select(Unit).where(Unit.kind == UnitKind.STATION, unit.covers(Unit.path))
        )
    }
    result = [
        StationCoverage(stations.get(path), int(n), int(meeting or 0), int(active or 0))
        for path, n, meeting, active in rows
    ]
    seen = {row.station.path for row in result if row.station is not None}
    result += [StationCoverage(s, 0, 0, 0) for path, s in stations.items() if path not in seen]
    return sorted(
        result,
        key=lambda row: (
            row.station is None,
            row.percent,
            row.station.name_en if row.station else "",
        ),
    )


# ---- the station's villages --------------------------------------------------------------------


@dataclass
class Village:
    place: Place
    active: int
    target: int

    @property
    def met(self) -> bool:
        return self.active >= self.target


def station_villages(principal: Principal) -> list[Village]:
    """The inhabited places of the post's station, by name, with their visible active contacts
    (from the counts places keep: one query, no contact read)."""
    goal = coverage.target()
    count = coverage.visible_active(principal)
    rows = db.session.execute(
        select(Place, count)
        .where(principal.unit.covers(Place.unit_path), Place.uninhabited.is_(False))
        .order_by(Place.name_en, Place.id)
    )
    return [Village(place, int(active), goal) for place, active in rows]


@dataclass
class Submissions:
    pending: int = 0
    rejected: int = 0


def my_open_submissions(principal: Principal) -> Submissions:
    """The officer's own enrolments still waiting for the ASP, and those sent back (rejected,
    to correct and resubmit), within the post's subtree (the pending/rejected rows of one
    station, read through the (status, unit_path) index)."""
    rows = db.session.execute(
        select(Contact.status, func.count(Contact.id))
        .where(
            Contact.status.in_([ContactStatus.PENDING, ContactStatus.REJECTED]),
            roster.visible_condition(principal),
            Contact.enrolled_by_officer_id == principal.officer.id,
        )
        .group_by(Contact.status)
    )
    counts = dict(rows.all())
    return Submissions(
        pending=counts.get(ContactStatus.PENDING, 0), rejected=counts.get(ContactStatus.REJECTED, 0)
    )


# ---- incidents per day by status ---------------------------------------------------------------

# The chart's three groups of statuses: still being verified, verdict given, acted on or closed.
STATUS_GROUPS = {
    S.NEW: "verifying",
    S.VERIFYING: "verifying",
    S.VERIFIED_TRUE: "verdict",
    S.FOUND_FALSE: "verdict",
    S.UNCONFIRMED: "verdict",
    S.ACTION_TAKEN: "done",
    S.CLOSED: "done",
}
GROUP_ORDER = ("verifying", "verdict", "done")


@dataclass
class DayCounts:
    day: date
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def incidents_per_day(
    principal: Principal, now: datetime, days: int = CHART_DAYS
) -> list[DayCounts]:
    """Incidents reported on each of the last ``days`` days (IST), by today's status group,
    oldest day first. Reads only the window's incidents (the reported_at indexes)."""
    today = now.astimezone(IST).date()
    first = today - timedelta(days=days - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=IST)
    result = {first + timedelta(days=n): DayCounts(first + timedelta(days=n)) for n in range(days)}
    for day in result.values():
        day.counts = {group: 0 for group in GROUP_ORDER}
    rows = db.session.execute(
        select(Incident.reported_at, Incident.status).where(
            incidents.visible_incidents_condition(principal), Incident.reported_at >= start
        )
    )
    for reported_at, status in rows:
        day = result.get(reported_at.astimezone(IST).date())
        if day is not None:
            day.counts[STATUS_GROUPS[IncidentStatus(status)]] += 1
    return list(result.values())


# ---- open incidents per district (control room) ------------------------------------------------


@dataclass
class DistrictIncidents:
    district: Unit
    open: int
    severe: int  # critical or high
    overdue: int


def open_by_district(principal: Principal, now: datetime) -> list[DistrictIncidents]:
    """Open incidents per district the post may see, the most severe load first (grouped
    queries over the open-incident and awaiting indexes, one for the districts' names)."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for district_id, severity, number in db.session.execute(
        select(Incident.district_id, Incident.severity, func.count())
        .where(open_condition(), incidents.visible_incidents_condition(principal))
        .group_by(Incident.district_id, Incident.severity)
    ):
        counts[district_id][0] += number
        if severity in SEVERE:
            counts[district_id][1] += number
    for district_id, number in db.session.execute(
        select(Incident.district_id, func.count())
        .where(overdue_condition(now), incidents.visible_incidents_condition(principal))
        .group_by(Incident.district_id)
    ):
        counts[district_id][2] += number
    if not counts:
        return []
    districts = {
        unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_(counts)))
    }
    result = [
        DistrictIncidents(districts[district_id], n, severe, late)
        for district_id, (n, severe, late) in counts.items()
        if district_id in districts
    ]
    return sorted(result, key=lambda row: (-row.severe, -row.open, row.district.name_en))


def group_counts_by_station(villages: list[Village]) -> dict[str, int]:
    """Villages meeting the target and below it (the station home's summary line)."""
    counts: dict[str, int] = defaultdict(int)
    for village in villages:
        counts["met" if village.met else "below"] += 1
    return dict(counts)


# ---- the village map ----------------------------------------------------------------------------


@dataclass
class MapPlace:
    place_id: int
    name_en: str
    name_hi: str
    latitude: float | None
    longitude: float | None
    active: int


def map_places(principal: Principal, unit: Unit) -> list[MapPlace]:
    """The inhabited places under ``unit`` with their coordinates (None when the sources gave
    none) and visible active contacts: one range read of the unit's places, no contact read."""
    count = coverage.visible_active(principal)
    rows = db.session.execute(
        select(Place.id, Place.name_en, Place.name_hi, Place.latitude, Place.longitude, count)
        .where(unit.covers(Place.unit_path), Place.uninhabited.is_(False))
        .order_by(Place.name_en, Place.id)
    )
    return [MapPlace(*row) for row in rows]


def districts_under(unit: Unit):
    """SELECT of the districts under ``unit`` (the map's choice above district level)."""
    return select(Unit).where(Unit.kind == UnitKind.DISTRICT, unit.covers(Unit.path))


# ---- response times by district (control room) -------------------------------------------------

RESPONSE_DAYS = 7


@dataclass
class DistrictResponse:
    district: Unit
    reported: int
    first_call_minutes: int | None  # median, of those called
    verdict_hours: float | None  # median, of those with a verdict
    waiting: int  # not called yet


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def response_by_district(
    principal: Principal, now: datetime, days: int = RESPONSE_DAYS
) -> list[DistrictResponse]:
    """Median time from report to first call and to verdict per district, over the incidents
    reported in the last ``days`` days (the reported_at index), slowest first call first."""
    rows = db.session.execute(
        select(
            Incident.district_id, Incident.reported_at, Incident.first_call_at, Incident.verdict_at
        ).where(
            incidents.visible_incidents_condition(principal),
            Incident.reported_at >= now - timedelta(days=days),
        )
    )
    calls: dict[int, list[float]] = defaultdict(list)
    verdicts: dict[int, list[float]] = defaultdict(list)
    reported: dict[int, int] = defaultdict(int)
    waiting: dict[int, int] = defaultdict(int)
    for district_id, reported_at, first_call_at, verdict_at in rows:
        reported[district_id] += 1
        if first_call_at is None:
            waiting[district_id] += 1
        else:
            calls[district_id].append((first_call_at - reported_at).total_seconds() / 60)
        if verdict_at is not None:
            verdicts[district_id].append((verdict_at - reported_at).total_seconds() / 3600)
    if not reported:
        return []
    districts = {
        unit.id: unit for unit in db.session.scalars(select(Unit).where(Unit.id.in_(reported)))
    }
    result = []
    for district_id, count in reported.items():
        minutes = _median(calls[district_id])
        hours = _median(verdicts[district_id])
        result.append(
            DistrictResponse(
                districts[district_id],
                count,
                round(minutes) if minutes is not None else None,
                round(hours, 1) if hours is not None else None,
                waiting[district_id],
            )
        )
    return sorted(
        result,
        key=lambda row: (-(row.first_call_minutes or 0), -row.waiting, row.district.name_en),
    )


# ---- verification drives, sensitive places, out-of-date contacts (office and station) --------


def office_drive(principal: Principal):
    """The open drive whose area contains the post's unit (the latest opened), or None."""
    from cplan.services import drives

    return drives.open_drive_for(principal, principal.unit)


def drive_progress(principal: Principal):
    """The open drive covering the post's unit and its progress over the unit, from the drive's
    counters (``DriveProgress`` and the daily series): no task is read. None without a drive."""
    from cplan.services import drives

    drive = office_drive(principal)
    if drive is None:
        return None
    return drives.progress_of(principal, drive, principal.unit)


@dataclass
class SensitiveBelow:
    election: object  # the Election (its name is shown in the reader's language)
    total: int
    places: list[tuple[Place, int]]  # (place, visible active contacts), fewest contacts first
    target: int


def sensitive_below_target(principal: Principal, limit: int = 5) -> SensitiveBelow | None:
    """The unit's places graded sensitive in the election active for its district that have
    fewer active contacts than the target (the places' kept counts; the grades' election and
    path index): their count and the few with the fewest contacts. None when no election is on
    or above district level."""
    from cplan.models.elections import SensitivePlace
    from cplan.services import elections, geo

    unit = principal.unit
    district = unit if unit.kind == UnitKind.DISTRICT else geo.district_of(unit)
    if district is None:
        return None
    phase = elections.active_phase(district.id)
    if phase is None:
        return None
    goal = coverage.target()
    count = coverage.visible_active(principal)
    graded = (
        select(SensitivePlace.place_id)
        .where(
            SensitivePlace.election_id == phase.election_id,
            unit.covers(SensitivePlace.unit_path),
        )
        .distinct()
    )
    where = (Place.id.in_(graded), Place.uninhabited.is_(False), count < goal)
    total = db.session.scalar(select(func.count(Place.id)).where(*where)) or 0
    rows = db.session.execute(
        select(Place, count).where(*where).order_by(count, Place.name_en, Place.id).limit(limit)
    ).all()
    return SensitiveBelow(
        election=phase.election,
        total=int(total),
        places=[(place, int(active)) for place, active in rows],
        target=goal,
    )


def out_of_date_count(principal: Principal) -> int:
    """Active contacts of the post's area not verified within the policy (one count over the
    (status, unit_path, last_verified_at) index range)."""
    from cplan.services import drives

    return int(
        db.session.scalar(
            select(func.count(Contact.id)).where(
                principal.unit.covers(Contact.unit_path),
                roster.visible_condition(principal),
                drives.out_of_date_condition(drives.policy_cutoff()),
            )
        )
        or 0
    )


# ---- the state map: districts as points ---------------------------------------------------------


# {(database, unit id, sees confidential, target): (monotonic time, {district id: figures})}
_DISTRICT_FIGURES: dict[tuple, tuple[float, dict]] = {}


def _district_figures(principal: Principal, unit: Unit, goal: int) -> dict:
    """{district id: (mean latitude, mean longitude, inhabited places, places at the target)}
    under ``unit``: one grouped query over every place of the unit (the state's 117,000), kept
    by this process for ``STATE_MAP_CACHE_SECONDS`` (figures of plain numbers, no record)."""
    seconds = current_app.config.get("STATE_MAP_CACHE_SECONDS", 60)
    key = (
        db.engine.url.render_as_string(hide_password=True),
        unit.id,
        principal.can(Permission.VIEW_CONFIDENTIAL),
        goal,
    )
    kept = _DISTRICT_FIGURES.get(key)
    if seconds and kept is not None and time.monotonic() - kept[0] < seconds:
        return kept[1]
    count = coverage.visible_active(principal)
    rows = db.session.execute(
        select(
            Place.district_id,
            func.avg(Place.latitude),
            func.avg(Place.longitude),
            func.sum(case((Place.uninhabited.is_(False), 1), else_=0)),
            func.sum(case((and_(Place.uninhabited.is_(False), count >= goal), 1), else_=0)),
        )
        .where(unit.covers(Place.unit_path))
        .group_by(Place.district_id)
    ).all()
    figures = {row[0]: tuple(row[1:]) for row in rows}
    if seconds:
        _DISTRICT_FIGURES[key] = (time.monotonic(), figures)
    return figures


@dataclass
class DistrictPoint:
    """A district on the state map: where its places lie on average and how they stand."""

    district: Unit
    latitude: float | None  # the mean of its places' coordinates (None: none has any)
    longitude: float | None
    inhabited: int
    meeting: int  # inhabited places at the contact target
    sensitive: int | None = None  # graded places of its active election (None: no election)
    sensitive_meeting: int = 0  # of those, at the target

    @property
    def percent(self) -> int:
        return round(100 * self.meeting / self.inhabited) if self.inhabited else 0

    @property
    def sensitive_percent(self) -> int:
        return round(100 * self.sensitive_meeting / self.sensitive) if self.sensitive else 0


def district_points(principal: Principal, unit: Unit) -> list[DistrictPoint]:
    """Every district under ``unit`` with the centroid of its places' coordinates, its inhabited
    places and those at the target (one grouped query over the places' kept counts), and, for a
    district with an election on, its graded sensitive places and those at the target (one
    query over the grades of the active elections). Districts by name."""
    from cplan.models.elections import SensitivePlace
    from cplan.services import elections

    goal = coverage.target()
    count = coverage.visible_active(principal)
    figures = _district_figures(principal, unit, goal)
    districts = db.session.scalars(districts_under(unit).order_by(Unit.name_en, Unit.id)).all()
    points = []
    for district in districts:
        latitude, longitude, inhabited, meeting = figures.get(district.id, (None, None, 0, 0))
        points.append(
            DistrictPoint(
                district,
                float(latitude) if latitude is not None else None,
                float(longitude) if longitude is not None else None,
                int(inhabited or 0),
                int(meeting or 0),
            )
        )
    phases = elections.active_phases(point.district.id for point in points)
    if phases:
        graded = (
            select(
                Place.district_id,
                SensitivePlace.election_id,
                Place.id,
                func.max(case((count >= goal, 1), else_=0)),
            )
            .join(Place, Place.id == SensitivePlace.place_id)
            .where(
                SensitivePlace.election_id.in_({phase.election_id for phase in phases.values()}),
                Place.district_id.in_(phases),
                Place.uninhabited.is_(False),
                unit.covers(SensitivePlace.unit_path),
            )
            .group_by(Place.district_id, SensitivePlace.election_id, Place.id)
        )
        by_district = {point.district.id: point for point in points}
        for district_id in phases:
            by_district[district_id].sensitive = 0
        for district_id, election_id, _place_id, met in db.session.execute(graded):
            if phases[district_id].election_id != election_id:
                continue  # graded for another election than the one on there now
            point = by_district[district_id]
            point.sensitive += 1
            point.sensitive_meeting += int(met)
    return points
