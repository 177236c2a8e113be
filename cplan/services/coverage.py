"""Roster coverage: how many inhabited places of a unit have enough active contacts.

A place *meets the target* when it has at least ``COVERAGE_TARGET`` (config, 10 by default)
active contacts; below it otherwise; *without contacts* when it has none at all. Uninhabited
places (river-bed, forest, deserted parcels) are left out: nobody can be enrolled there.

Figures are grouped by the level below the unit being looked at: per district for a state,
zone or range; per police station for a district or circle; per place for a station. Every
figure comes from grouped SQL (GROUP BY over one range of ``unit_path``), never a query per
row, and contacts are counted only through the reader's visibility rule
(``roster.visible_condition``): a station post's figures leave out confidential contacts it
cannot see. Active contacts per place come from the counts each place keeps
(``cplan.models.contact_counts``, kept by database triggers), so the state's table reads its
117,000 places rather than counting 1.1 million contacts. Its reads go to the reports replica
when one is configured (``CPLAN_REPORTS_DATABASE_URL``): figures may then lag by its delay.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, func, select

from cplan.extensions import db, reports_bind
from cplan.models.geo import Place, Unit, UnitKind
from cplan.models.roster import Contact, ContactCategory, ContactStatus
from cplan.services.permissions import Permission
from cplan.services.principal import Principal
from cplan.services.roster import visible_condition

DEFAULT_TARGET = 10
PER_PAGE = 50
MAX_PER_PAGE = 100


class Level(enum.StrEnum):
    """What one row of a coverage table stands for."""

    DISTRICT = "district"
    STATION = "station"
    PLACE = "place"


LEVEL_BELOW = {
    UnitKind.STATE: Level.DISTRICT,
    UnitKind.ZONE: Level.DISTRICT,
    UnitKind.RANGE: Level.DISTRICT,
    UnitKind.DISTRICT: Level.STATION,
    UnitKind.CIRCLE: Level.STATION,
    UnitKind.STATION: Level.PLACE,
}
GROUP_COLUMN = {
    Level.DISTRICT: Place.district_id,
    Level.STATION: Place.station_id,
    Level.PLACE: Place.id,
}


def target() -> int:
    """Active contacts a place should have (config ``COVERAGE_TARGET``)."""
    value = current_app.config.get("COVERAGE_TARGET", DEFAULT_TARGET)
    return value if isinstance(value, int) and value > 0 else DEFAULT_TARGET


@dataclass
class Figures:
    """The coverage of one group of places (or of the whole unit, for the totals)."""

    inhabited: int = 0
    meeting: int = 0
    without_contacts: int = 0
    active: int = 0
    pending: int = 0
    categories: dict[ContactCategory, int] = field(default_factory=dict)

    @property
    def below(self) -> int:
        """Places short of the target (those without any contact included)."""
        return self.inhabited - self.meeting

    @property
    def percent_meeting(self) -> int:
        return round(100 * self.meeting / self.inhabited) if self.inhabited else 0

    def add(self, other: Figures) -> None:
        self.inhabited += other.inhabited
        self.meeting += other.meeting
        self.without_contacts += other.without_contacts
        self.active += other.active
        self.pending += other.pending
        for category, count in other.categories.items():
            self.categories[category] = self.categories.get(category, 0) + count


@dataclass
class CoverageRow:
    """One row: a district, a station (None: places not yet attached) or a place."""

    record: Unit | Place | None
    figures: Figures


@dataclass
class Coverage:
    """A unit's coverage: the level of its rows, the rows, and their totals."""

    unit: Unit
    level: Level
    target: int
    rows: list[CoverageRow]
    totals: Figures

    def categories(self) -> list[tuple[ContactCategory, int]]:
        """Active contacts by category, in the list's order, leaving out empty ones."""
        return [
            (category, self.totals.categories[category])
            for category in ContactCategory
            if self.totals.categories.get(category)
        ]


def visible_active(principal: Principal):
    """SQL: a place's active contacts that ``principal`` may see, from the counts the place
    keeps (``cplan.models.contact_counts``): confidential ones only from the ASP upwards."""
    if principal.can(Permission.VIEW_CONFIDENTIAL):
        return Place.active_contacts
    return Place.active_contacts - Place.active_confidential


def figures_by_group(principal: Principal, unit: Unit, level: Level, goal: int) -> dict:
    """Coverage figures per group of inhabited places under ``unit``, in two grouped queries,
    keyed by district id, place id, or (per station) the station's path: places with the
    active counts they keep, and contacts by status and category.

    Per station, places and contacts are grouped by the ``unit_path`` they carry (their
    station's path): both queries then read one index range in order, and contacts need no join
    to their places (places not yet attached carry their district's path).
    """
    by_path = level == Level.STATION
    group = Place.unit_path if by_path else GROUP_COLUMN[level]
    count = visible_active(principal)
    place_rows = db.session.execute(
        select(
            group,
            func.count(Place.id),
            func.sum(case((count >= goal, 1), else_=0)),
            func.sum(case((count == 0, 1), else_=0)),
            func.sum(count),
        )
        .where(unit.covers(Place.unit_path), Place.uninhabited.is_(False))
        .group_by(group),
        bind_arguments=reports_bind(),
    )
    figures: dict = {}
    for key, inhabited, meeting, without, active_total in place_rows:
        figures[key] = Figures(
            inhabited=inhabited,
            meeting=int(meeting or 0),
            without_contacts=int(without or 0),
            active=int(active_total or 0),
        )
    counted = (
        Contact.status.in_([ContactStatus.ACTIVE, ContactStatus.PENDING]),
        unit.covers(Contact.unit_path),
        visible_condition(principal),
    )
    if by_path:
        uninhabited = select(Place.id).where(
            unit.covers(Place.unit_path), Place.uninhabited.is_(True)
        )
        contact_rows = db.session.execute(
            select(Contact.unit_path, Contact.status, Contact.category, func.count())
            .where(*counted, Contact.place_id.not_in(uninhabited))
            .group_by(Contact.status, Contact.unit_path, Contact.category),
            bind_arguments=reports_bind(),
        )
    else:
        contact_rows = db.session.execute(
            select(group, Contact.status, Contact.category, func.count())
            .join(Place, Place.id == Contact.place_id)
            .where(*counted, Place.uninhabited.is_(False))
            .group_by(group, Contact.status, Contact.category),
            bind_arguments=reports_bind(),
        )
    for key, status, category, number in contact_rows:
        row = figures.setdefault(key, Figures())
        if status == ContactStatus.PENDING:
            row.pending += number
        else:
            row.categories[category] = row.categories.get(category, 0) + number
    return figures


def coverage_of(principal: Principal, unit: Unit) -> Coverage:
    """The coverage table of ``unit`` (the caller has checked it lies in the post's scope).

    Districts and stations with no inhabited place still get a row (of zeros); a district's
    places not yet attached to a station form one row of their own (``record`` None).
    """
    level = LEVEL_BELOW[unit.kind]
    goal = target()
    figures = figures_by_group(principal, unit, level, goal)
    if level == Level.PLACE:
        places = db.session.scalars(
            select(Place).where(Place.id.in_([k for k in figures if k is not None])),
            bind_arguments=reports_bind(),
        )
        records: dict[int | None, Unit | Place | None] = {place.id: place for place in places}
    else:
        kind = UnitKind.DISTRICT if level == Level.DISTRICT else UnitKind.STATION
        units = db.session.scalars(
            select(Unit).where(Unit.kind == kind, unit.covers(Unit.path)),
            bind_arguments=reports_bind(),
        )
        records = {
            (record.path if level == Level.STATION else record.id): record for record in units
        }
        # Figures of no listed unit: places not attached to a station (one row of their own).
        unattached = Figures()
        for key in [key for key in figures if key not in records]:
            unattached.add(figures.pop(key))
        if unattached.inhabited or unattached.active or unattached.pending:
            records[None], figures[None] = None, unattached
    rows = [CoverageRow(record, figures.get(key) or Figures()) for key, record in records.items()]
    if level == Level.PLACE:  # an action list: worst first
        rows.sort(key=lambda row: (row.figures.active, row.record.name_en, row.record.id))
    else:
        rows.sort(
            key=lambda row: (
                row.record is None,
                row.record.name_en if row.record else "",
                row.record.id if row.record else 0,
            )
        )
    totals = Figures()
    for row in rows:
        totals.add(row.figures)
    return Coverage(unit=unit, level=level, target=goal, rows=rows, totals=totals)


@dataclass
class PlaceShortfall:
    """A place below the target: how many active and pending contacts it has."""

    place: Place
    active: int
    pending: int
    target: int

    @property
    def missing(self) -> int:
        return max(0, self.target - self.active)


class RowsPage(Pagination):
    """A page of rows from a multi-column statement (Flask-SQLAlchemy's own pages are scalars)."""

    def __init__(self, statement, make, page: int, per_page: int):
        self._statement, self._make = statement, make
        super().__init__(page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False)

    def _query_items(self) -> list:
        rows = db.session.execute(
            self._statement.offset((self.page - 1) * self.per_page).limit(self.per_page),
            bind_arguments=reports_bind(),
        )
        return [self._make(*row) for row in rows]

    def _query_count(self) -> int:
        return db.session.scalar(
            select(func.count()).select_from(self._statement.order_by(None).subquery()),
            bind_arguments=reports_bind(),
        )


def places_below_target(
    principal: Principal, unit: Unit, page: int = 1, per_page: int = PER_PAGE
) -> RowsPage:
    """The inhabited places under ``unit`` short of the target, worst first (fewest active
    contacts, then name): what station staff should enrol next. One query a page (and a count)."""
    goal = target()
    pending = (
        select(Contact.place_id, func.count().label("pending"))
        .where(
            Contact.status == ContactStatus.PENDING,
            unit.covers(Contact.unit_path),
            visible_condition(principal),
        )
        .group_by(Contact.place_id)
        .subquery("pending_counts")
    )
    active_count = visible_active(principal)
    statement = (
        select(Place, active_count, func.coalesce(pending.c.pending, 0))
        .outerjoin(pending, pending.c.place_id == Place.id)
        .where(unit.covers(Place.unit_path), Place.uninhabited.is_(False), active_count < goal)
        .order_by(active_count, Place.name_en, Place.id)
    )
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    return RowsPage(
        statement,
        lambda place, n_active, n_pending: PlaceShortfall(place, n_active, n_pending, goal),
        page=max(1, page),
        per_page=per_page,
    )
