"""All models, imported here so Alembic and ``db.create_all`` see every table."""
from cplan.models.base import Base, UTCDateTime, utcnow
from cplan.models.geo import (
    Place,
    PlaceKind,
    PlaceStationSpell,
    Subdistrict,
    Unit,
    UnitKind,
)

__all__ = [
    "Base",
    "Place",
    "PlaceKind",
    "PlaceStationSpell",
    "Subdistrict",
    "UTCDateTime",
    "Unit",
    "UnitKind",
    "utcnow",
]
