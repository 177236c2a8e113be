"""The jurisdiction tree: creating units, subtree queries, and moving places between stations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update

from cplan.extensions import db
from cplan.models.base import utcnow
from cplan.models.elections import ContactElectionMark, SensitivePlace
from cplan.models.geo import Place, PlaceStationSpell, Unit, UnitKind
from cplan.models.roster import Contact, ContactProposal
from cplan.models.search import SearchToken
from cplan.services import search
from cplan.services.errors import DomainError
from cplan.services.transliteration import search_key

# Which kind of unit may sit directly under which.
ALLOWED_PARENT = {
    UnitKind.STATE: None,
    UnitKind.ZONE: UnitKind.STATE,
    UnitKind.RANGE: UnitKind.ZONE,
    UnitKind.DISTRICT: UnitKind.RANGE,
    UnitKind.CIRCLE: UnitKind.DISTRICT,
    UnitKind.STATION: UnitKind.CIRCLE,
}
# A district may also hang straight under the state until its zone and range are known
# (the LGD district list says nothing of police zones).
EXTRA_ALLOWED_PARENTS = {UnitKind.DISTRICT: {UnitKind.STATE}}


class TreeError(DomainError):
    """The change would break the shape of the jurisdiction tree."""


def _check_parent(kind: UnitKind, parent: Unit | None) -> None:
    expected = ALLOWED_PARENT[kind]
    if expected is None:
        if parent is not None:
            raise TreeError("a state has no parent unit")
        return
    if parent is None:
        raise TreeError(f"a {kind.value} needs a parent unit")
    if parent.kind != expected and parent.kind not in EXTRA_ALLOWED_PARENTS.get(kind, set()):
        raise TreeError(f"a {kind.value} cannot sit under a {parent.kind.value}")


def names_search_key(name_en: str, name_hi: str = "", aliases: str = "") -> str:
    """The stored search key of a named record: the key of every spelling, space separated,
    so ``LIKE '%key%'`` finds it by any of them."""
    keys: list[str] = []
    spellings = [name_en, name_hi, *(a.strip() for a in (aliases or "").split("|"))]
    for name in spellings:
        key = search_key(name) if name else ""
        if key and key not in keys:
            keys.append(key)
    return " ".join(keys)[:400]


def create_unit(kind: UnitKind, name_en: str, parent: Unit | None = None, **fields) -> Unit:
    """Add a unit under ``parent`` and give it its materialised path."""
    _check_parent(kind, parent)
    fields.setdefault(
        "search_key",
        names_search_key(name_en, fields.get("name_hi", ""), fields.get("aliases", "")),
    )
    unit = Unit(kind=kind, name_en=name_en, parent=parent, path="", **fields)
    db.session.add(unit)
    db.session.flush()  # the id is part of the path
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    db.session.flush()
    return unit


def units_under(unit: Unit, kind: UnitKind | None = None, include_self: bool = True) -> Select:
    """A query for the units in ``unit``'s subtree, optionally of one kind."""
    query = select(Unit).where(unit.covers(Unit.path))
    if not include_self:
        query = query.where(Unit.id != unit.id)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    return query


def places_under(unit: Unit) -> Select:
    """A query for every place answered for by a unit in ``unit``'s subtree."""
    return select(Place).where(unit.covers(Place.unit_path))


def count_places_by_station(unit: Unit) -> dict[int, int]:
    """Number of places per station in ``unit``'s subtree, in one grouped query."""
    rows = db.session.execute(
        select(Place.station_id, func.count(Place.id))
        .where(unit.covers(Place.unit_path), Place.station_id.is_not(None))
        .group_by(Place.station_id)
    )
    return {station_id: count for station_id, count in rows}


def district_of(unit: Unit) -> Unit | None:
    """The district a unit belongs to (itself if it is one), from its path in one query."""
    if unit.kind == UnitKind.DISTRICT:
        return unit
    return db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.id.in_(unit.ancestor_ids))
    )


def add_place(place: Place, station: Unit | None = None, reason: str = "") -> Place:
    """Add a new place, attached to ``station`` (with an opening history spell) or to its district,
    and index its names for search."""
    if not place.search_key:
        place.search_key = names_search_key(place.name_en, place.name_hi or "", place.aliases or "")
    if station is not None:
        _check_station_for(place, station)
        place.station = station
        place.unit_path = station.path
    else:
        place.unit_path = (
            db.session.get(Unit, place.district_id).path
            if place.district_id
            else place.district.path
        )
    db.session.add(place)
    db.session.flush()
    if station is not None:
        db.session.add(PlaceStationSpell(place=place, station_id=station.id, reason=reason))
        db.session.flush()
    search.index_place(place)
    return place


def _check_station_for(place: Place, station: Unit) -> None:
    if station.kind != UnitKind.STATION:
        raise TreeError("places are attached to police stations only")
    district = place.district or db.session.get(Unit, place.district_id)
    if not district.contains(station):
        raise TreeError("a place can only be attached to a police station of its own district")


def move_place(place: Place, station: Unit, reason: str, when: datetime | None = None) -> Place:
    """Hand ``place`` over to ``station``: close the current spell, open a new one."""
    if place.station_id == station.id:
        raise TreeError("the place already belongs to that police station")
    _check_station_for(place, station)
    when = when or utcnow()
    current = db.session.scalar(
        select(PlaceStationSpell).where(
            PlaceStationSpell.place_id == place.id, PlaceStationSpell.ended_at.is_(None)
        )
    )
    if current is not None:
        current.ended_at = when
    db.session.add(
        PlaceStationSpell(place_id=place.id, station_id=station.id, started_at=when, reason=reason)
    )
    place.station = station
    place.unit_path = station.path
    _carry_scope_of_place(place, station.path)
    db.session.flush()
    return place


def _carry_scope_of_place(place: Place, unit_path: str) -> None:
    """Records scoped through a place (its contacts, their search tokens) follow it."""
    contact_ids = select(Contact.id).where(Contact.place_id == place.id)
    for statement in (
        update(Contact).where(Contact.place_id == place.id),
        update(ContactProposal).where(ContactProposal.contact_id.in_(contact_ids)),
        update(SearchToken).where(SearchToken.kind == "place", SearchToken.record_id == place.id),
        update(SensitivePlace).where(SensitivePlace.place_id == place.id),
        update(ContactElectionMark).where(ContactElectionMark.contact_id.in_(contact_ids)),
        update(SearchToken).where(
            SearchToken.kind == "contact", SearchToken.record_id.in_(contact_ids)
        ),
    ):
        db.session.execute(
            statement.values(unit_path=unit_path).execution_options(synchronize_session=False)
        )


def reassign_place(place: Place, station: Unit, reason: str) -> Place:
    """An officer hands a place to another station (a new thana carved out): moved and audited."""
    from cplan.services import audit

    reason = (reason or "").strip()
    if len(reason) < 5:
        raise TreeError("give the reason for moving the place (at least 5 characters)")
    previous = place.station
    move_place(place, station, reason=reason[:500])
    audit.record(
        "geo.place_moved",
        target=place,
        unit=station,
        detail={"from_station": previous.code if previous else None, "to_station": station.code},
    )
    return place


def station_on(place: Place, when: datetime) -> Unit | None:
    """The station that answered for ``place`` at time ``when`` (from the history)."""
    spell = db.session.scalar(
        select(PlaceStationSpell)
        .where(
            PlaceStationSpell.place_id == place.id,
            PlaceStationSpell.started_at <= when,
            (PlaceStationSpell.ended_at.is_(None)) | (PlaceStationSpell.ended_at > when),
        )
        .order_by(PlaceStationSpell.started_at.desc())
    )
    return spell.station if spell else None


def move_unit(unit: Unit, new_parent: Unit) -> Unit:
    """Re-hang ``unit`` (and its whole subtree, places included) under ``new_parent``.

    Two set-based UPDATEs rewrite the path prefix of every unit and place below; nothing is
    loaded into Python.
    """
    _check_parent(unit.kind, new_parent)
    if unit.contains(new_parent):
        raise TreeError("a unit cannot be moved below itself")
    old_prefix = unit.path
    new_prefix = new_parent.path + f"{unit.id}/"
    cut = len(old_prefix) + 1  # SQL substr is 1-based
    db.session.execute(
        update(Unit)
        .where(unit.covers(Unit.path))
        .values(path=new_prefix + func.substr(Unit.path, cut))
        .execution_options(synchronize_session=False)
    )
    # Every table that carries a unit path follows (the audit trail does not: its paths are
    # part of each event's hash and record where the event was filed at the time).
    for model in (
        Place,
        Contact,
        ContactProposal,
        SearchToken,
        SensitivePlace,
        ContactElectionMark,
    ):
        db.session.execute(
            update(model)
            .where(unit.covers(model.unit_path))
            .values(unit_path=new_prefix + func.substr(model.unit_path, cut))
            .execution_options(synchronize_session=False)
        )
    db.session.execute(
        update(Unit)
        .where(Unit.id == unit.id)
        .values(parent_id=new_parent.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    db.session.flush()
    return unit
