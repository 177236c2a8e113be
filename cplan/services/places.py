"""Reading the jurisdiction spine for people: overviews with counts, a unit's stations and
places, a place's station history, and place search in either script.

Every function takes the acting principal and restricts its queries to the principal's subtree
(``cplan.services.scope``), so none can show a unit or place the post may not see. Place search
reads the ``search_tokens`` index (``cplan.services.search``). Lists are counted with grouped
queries (one per kind of count), never one query per row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from cplan.extensions import db
from cplan.models.geo import Place, PlaceStationSpell, Unit, UnitKind
from cplan.services import search, transliteration
from cplan.services.errors import DomainError
from cplan.services.principal import Principal
from cplan.services.scope import scope_condition

PER_PAGE = 50
MAX_QUERY_LENGTH = 100
# Units that sit above districts: their pages list districts.
ABOVE_DISTRICT = {UnitKind.STATE, UnitKind.ZONE, UnitKind.RANGE}


class QueryTooShort(DomainError):
    """The search text has fewer than two meaningful characters and is not an LGD code."""


@dataclass(frozen=True)
class UnitSummary:
    """A unit with the counts shown beside it in lists."""

    unit: Unit
    places: int
    stations: int | None = None


@dataclass(frozen=True)
class CircleStations:
    """A circle and the summaries of its police stations."""

    circle: Unit
    stations: list[UnitSummary]


# ---- counts and lists ----------------------------------------------------------------------


def district_summaries(principal: Principal, root: Unit) -> list[UnitSummary]:
    """The districts under ``root`` with their station and place counts (three queries)."""
    districts = db.session.scalars(
        select(Unit)
        .where(
            Unit.kind == UnitKind.DISTRICT, root.covers(Unit.path), scope_condition(principal, Unit)
        )
        .order_by(Unit.name_en, Unit.id)
    ).all()
    if not districts:
        return []
    # Stations always hang under a circle, whose parent is the district.
    circle = aliased(Unit)
    station_counts = dict(
        db.session.execute(
            select(circle.parent_id, func.count(Unit.id))
            .join(circle, Unit.parent_id == circle.id)
            .where(
                Unit.kind == UnitKind.STATION,
                root.covers(Unit.path),
                scope_condition(principal, Unit),
            )
            .group_by(circle.parent_id)
        ).all()
    )
    place_counts = dict(
        db.session.execute(
            select(Place.district_id, func.count(Place.id))
            .where(root.covers(Place.unit_path), scope_condition(principal, Place))
            .group_by(Place.district_id)
        ).all()
    )
    return [
        UnitSummary(
            district,
            places=place_counts.get(district.id, 0),
            stations=station_counts.get(district.id, 0),
        )
        for district in districts
    ]


def station_summaries(principal: Principal, root: Unit) -> list[UnitSummary]:
    """The police stations under ``root`` (itself, for a station) with place counts (two
    queries)."""
    stations = db.session.scalars(
        select(Unit)
        .where(
            Unit.kind == UnitKind.STATION, root.covers(Unit.path), scope_condition(principal, Unit)
        )
        .order_by(Unit.name_en, Unit.id)
    ).all()
    if not stations:
        return []
    place_counts = dict(
        db.session.execute(
            select(Place.station_id, func.count(Place.id))
            .where(
                root.covers(Place.unit_path),
                scope_condition(principal, Place),
                Place.station_id.is_not(None),
            )
            .group_by(Place.station_id)
        ).all()
    )
    return [UnitSummary(station, places=place_counts.get(station.id, 0)) for station in stations]


def overview(principal: Principal) -> list[UnitSummary]:
    """What the geography home page lists: districts, or stations for a circle or station scope."""
    scope = principal.unit
    if scope.kind in ABOVE_DISTRICT or scope.kind == UnitKind.DISTRICT:
        return district_summaries(principal, scope)
    return station_summaries(principal, scope)


def stations_by_circle(principal: Principal, unit: Unit) -> list[CircleStations]:
    """The circles of a district (or the circle itself) with their stations and place counts."""
    circles = db.session.scalars(
        select(Unit)
        .where(
            Unit.kind == UnitKind.CIRCLE, unit.covers(Unit.path), scope_condition(principal, Unit)
        )
        .order_by(Unit.name_en, Unit.id)
    ).all()
    by_circle: dict[int, list[UnitSummary]] = {circle.id: [] for circle in circles}
    for summary in station_summaries(principal, unit):
        by_circle.setdefault(summary.unit.parent_id, []).append(summary)
    return [CircleStations(circle, by_circle[circle.id]) for circle in circles]


def count_unattached_places(principal: Principal, district: Unit) -> int:
    """Places of ``district`` not yet answered for by any police station."""
    return db.session.scalar(
        select(func.count(Place.id)).where(
            Place.district_id == district.id,
            Place.station_id.is_(None),
            scope_condition(principal, Place),
        )
    )


def ancestors(principal: Principal, unit: Unit) -> list[Unit]:
    """The visible units above ``unit``, root first, in one query (for breadcrumbs); none when
    no unit above it lies in ``principal``'s subtree (a station's own posts), read from the
    paths without a query."""
    ids = unit.ancestor_ids[:-1]
    # Each ancestor's path is a prefix of ``unit``'s: /1/, /1/2/, ...
    ids = [
        ancestor_id
        for depth, ancestor_id in enumerate(ids, start=1)
        if principal.unit.contains_path("/" + "".join(f"{i}/" for i in ids[:depth]))
    ]
    if not ids:
        return []
    found = db.session.scalars(
        select(Unit).where(Unit.id.in_(ids), scope_condition(principal, Unit))
    ).all()
    return sorted(found, key=lambda ancestor: len(ancestor.path))


def places_of(principal: Principal, unit: Unit, page: int = 1, language: str = "en"):
    """One page (``PER_PAGE``) of the places a unit answers for, ordered by name."""
    query = (
        select(Place)
        .where(unit.covers(Place.unit_path), scope_condition(principal, Place))
        .order_by(*search.place_name_order(language))
    )
    return db.paginate(query, page=page, per_page=PER_PAGE, max_per_page=PER_PAGE, error_out=False)


def wards_of(principal: Principal, town: Place, language: str = "en") -> list[Place]:
    """The wards / mohallas of a town, in the current scope."""
    return list(
        db.session.scalars(
            select(Place)
            .where(Place.town_id == town.id, scope_condition(principal, Place))
            .order_by(*search.place_name_order(language))
        )
    )


def station_history(place: Place) -> list[PlaceStationSpell]:
    """The stations that have answered for ``place``, latest first, stations loaded with them."""
    return list(
        db.session.scalars(
            select(PlaceStationSpell)
            .options(joinedload(PlaceStationSpell.station))
            .where(PlaceStationSpell.place_id == place.id)
            .order_by(PlaceStationSpell.started_at.desc(), PlaceStationSpell.id.desc())
        )
    )


# ---- search --------------------------------------------------------------------------------


def query_key(query: str) -> str | None:
    """The script-neutral search key of ``query``, or None when it is too short to search."""
    return transliteration.normalise_query(query)


def search_places(
    principal: Principal, query: str, page: int = 1, per_page: int = PER_PAGE, language: str = "en"
):
    """Places in scope with a name word (either script) starting with ``query``, or whose LGD
    code is it.

    Names are matched through the ``search_tokens`` index by a prefix range scan (never
    ``LIKE '%..%'``), so a ``%`` or ``_`` typed by the user can only match itself. Returns a
    page object with ``items`` and ``total`` (at most ``PER_PAGE`` a page), ordered by name.
    Raises ``QueryTooShort`` when there is nothing meaningful to search for.
    """
    query = (query or "")[:MAX_QUERY_LENGTH]
    key = query_key(query)
    code = search.lgd_code_in(query)
    if key is None and code is None:
        raise QueryTooShort("type at least two letters, or a complete LGD code")
    statement = search.places_query(key, code, principal.unit, language)
    per_page = max(1, min(per_page, PER_PAGE))
    return db.paginate(
        statement, page=page, per_page=per_page, max_per_page=PER_PAGE, error_out=False
    )
