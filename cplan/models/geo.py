"""The jurisdiction spine: police units in one tree, revenue places, and who answers for what.

Units (state > zone > range > district > circle > police station) form one tree. Each unit stores
its *materialised path* (``/1/4/9/``), so "everything under unit X" is a single range condition on
an indexed column (``X.covers(column)``: ``path >= X.path AND path < X.path_upper``), never a walk
in Python. Places (villages, towns, town wards) carry the path of the unit that answers for them
(their police station, or their district while unattached) in ``unit_path`` for the same reason.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cplan.models.base import Base, BilingualName, UTCDateTime, utcnow

# PostgreSQL must order paths byte-wise for the range trick to hold; SQLite's default
# BINARY collation already does.
PathString = String(255).with_variant(String(255, collation="C"), "postgresql")


def enum_column(enum_class, length=16):
    """A portable enum column stored as its lowercase value (no native DB enum type)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda cls: [member.value for member in cls],
        validate_strings=True,
    )


class UnitKind(enum.StrEnum):
    STATE = "state"
    ZONE = "zone"
    RANGE = "range"
    DISTRICT = "district"
    CIRCLE = "circle"
    STATION = "station"

    @property
    def depth(self) -> int:
        return list(UnitKind).index(self)


class PlaceKind(enum.StrEnum):
    VILLAGE = "village"
    TOWN = "town"
    WARD = "ward"  # a town ward, mohalla or locality


def path_upper_bound(path: str) -> str:
    """The smallest string greater than every string that starts with ``path``.

    Paths end in ``/``; ``0`` is the character right after ``/``, so replacing the final
    slash gives an exclusive upper bound for a B-tree range scan.
    """
    if not path.endswith("/"):
        raise ValueError(f"not a unit path: {path!r}")
    return path[:-1] + "0"


class Unit(BilingualName, Base):
    """A police unit: state HQ, zone, range, district, circle or police station (thana)."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("kind", "code", name="uq_units_kind_code"),
        Index("ix_units_path", "path"),
        Index("ix_units_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    path: Mapped[str] = mapped_column(PathString, default="")
    # Official code: LGD code for a state or district, a station code for a police station.
    code: Mapped[str | None] = mapped_column(String(32))
    census_2011_code: Mapped[str | None] = mapped_column(String(16))
    name_en: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str] = mapped_column(String(200), default="")
    # True when name_hi (or name_en) was produced by transliteration, not taken from a source.
    name_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Other spellings seen in sources, separated by " | " (searched, shown as "also written").
    aliases: Mapped[str] = mapped_column(Text, default="")
    search_key: Mapped[str] = mapped_column(String(400), default="", index=True)
    # A police station's headquarters (the town or village where the thana sits): where it
    # is on the map, for the nearest-station rule. use_alter: units and places refer to each other.
    hq_place_id: Mapped[int | None] = mapped_column(
        ForeignKey("places.id", use_alter=True, name="fk_units_hq_place_id_places")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    hq_place: Mapped[Place | None] = relationship(foreign_keys=[hq_place_id], post_update=True)
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name_en")

    def __repr__(self) -> str:
        return f"<Unit {self.kind} {self.code or self.id} {self.name_en}>"

    @property
    def path_upper(self) -> str:
        return path_upper_bound(self.path)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to this unit, read from the path."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def generated_scripts(self) -> tuple[str, ...]:
        # A station's list may give only the Hindi name (its English one is then transliterated)
        # or only the English one: either spelling may be the made one.
        return ("hi", "en") if self.kind == UnitKind.STATION else self.GENERATED_SCRIPTS

    def contains(self, other: Unit) -> bool:
        """True when ``other`` is this unit or lies below it."""
        return other.path.startswith(self.path)

    def contains_path(self, path: str) -> bool:
        """True when a record carrying ``path`` (a place, a contact) lies in this subtree."""
        return path.startswith(self.path)

    def covers(self, path_column):
        """SQL condition: ``path_column`` lies in this unit's subtree (one indexed range scan).

        ``path_column`` is ``Unit.path`` or the ``unit_path`` a record is filed under (places,
        contacts, proposals, search tokens, incident places, audit events). Every jurisdiction
        condition of the app is this one; ``contains_path`` is its twin for a loaded record.
        """
        return and_(path_column >= self.path, path_column < self.path_upper)


class Subdistrict(BilingualName, Base):
    """A revenue sub-district (tehsil) from LGD; places record which one they lie in."""

    __tablename__ = "subdistricts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lgd_code: Mapped[str] = mapped_column(String(16), unique=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str] = mapped_column(String(200), default="")
    name_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    census_2011_code: Mapped[str | None] = mapped_column(String(16))
    village_count: Mapped[int | None] = mapped_column(Integer)

    district: Mapped[Unit] = relationship()


class Place(BilingualName, Base):
    """A revenue village, a town, or a town ward / mohalla / locality.

    ``natural_key`` is the identity imports are idempotent on: ``lgd:<code>`` where an LGD
    code exists, ``census:<code>`` for a Census 2011 town, otherwise a key built from the
    district, the parent town or sub-district and the normalised name.
    """

    __tablename__ = "places"
    __table_args__ = (
        Index("ix_places_unit_path_search_key", "unit_path", "search_key"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude_range"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[PlaceKind] = mapped_column(enum_column(PlaceKind))
    natural_key: Mapped[str] = mapped_column(String(200), unique=True)
    lgd_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    census_2011_code: Mapped[str | None] = mapped_column(String(16), index=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str] = mapped_column(String(200), default="")
    name_generated: Mapped[bool] = mapped_column(Boolean, default=False)
    # True once district staff corrected the names by hand: a re-import of the official files
    # never overwrites name_en / name_hi again (the file's spellings go to the aliases).
    name_corrected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    aliases: Mapped[str] = mapped_column(Text, default="")
    search_key: Mapped[str] = mapped_column(String(400), default="")
    district_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    subdistrict_id: Mapped[int | None] = mapped_column(ForeignKey("subdistricts.id"), index=True)
    # A ward's town.
    town_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"), index=True)
    # The police station that answers for the place now (history in PlaceStationSpell).
    station_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Path of the station (or of the district while unattached): the scope key.
    unit_path: Mapped[str] = mapped_column(PathString)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # River-bed, forest and deserted parcels: real places with nobody to enrol.
    uninhabited: Mapped[bool] = mapped_column(Boolean, default=False)
    # Active contacts of the place, and how many of them are confidential: kept by triggers on
    # contacts (cplan/models/contact_counts.py), read by the coverage pages.
    active_contacts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active_confidential: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the importer flagged about this row (wrong coordinates, merged duplicate...).
    import_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    district: Mapped[Unit] = relationship(foreign_keys=[district_id])
    station: Mapped[Unit | None] = relationship(foreign_keys=[station_id])
    subdistrict: Mapped[Subdistrict | None] = relationship()
    town: Mapped[Place | None] = relationship(remote_side=[id])
    station_spells: Mapped[list[PlaceStationSpell]] = relationship(
        back_populates="place", order_by="PlaceStationSpell.started_at"
    )

    def __repr__(self) -> str:
        return f"<Place {self.kind} {self.natural_key} {self.name_en}>"


class PlaceStationSpell(Base):
    """A period during which one police station answered for a place.

    The open spell (``ended_at`` is NULL) matches ``Place.station_id``; moving a place to a
    newly carved-out station closes it and opens another, so history is never lost.
    """

    __tablename__ = "place_station_spells"
    __table_args__ = (Index("ix_place_station_spells_place_started", "place_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")

    place: Mapped[Place] = relationship(back_populates="station_spells")
    station: Mapped[Unit] = relationship()
