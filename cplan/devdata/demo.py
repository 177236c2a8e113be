"""The demonstration data set: Baghpat district, imported from the reference data in ``cplan/data``.

``load_demo`` runs ``DEMO_STEPS`` in order. Each step is a plain function taking the shared
``DemoContext``; later issues append their own steps (demo officers, enrolled contacts...)
without touching the earlier ones. Every step is idempotent, so loading twice changes nothing.
Like every service, it flushes and never commits: the CLI commits once at the end.

The police hierarchy above the district is not in any LGD file, so it is written here:
Uttar Pradesh > Meerut zone > Meerut range > Baghpat.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from cplan.data import DEMO_PLACES_FILE as PLACES_FILE
from cplan.data import DEMO_STATIONS_FILE as STATIONS_FILE
from cplan.data import DISTRICTS_FILE, LOCAL_BODIES_FILE, SUBDISTRICTS_FILE, data_dir
from cplan.extensions import db
from cplan.models.geo import Place, Unit, UnitKind
from cplan.pipelines.geo_import import (
    GeoImportError,
    ImportReport,
    attach_places_to_nearest_station,
    find_district,
    import_districts,
    import_places,
    import_stations,
    import_subdistricts,
)
from cplan.services import geo

DEMO_DISTRICT_CODE = "124"  # Baghpat

# (kind, code, English name, Hindi name) of the police units between the state and Baghpat.
MEERUT_ZONE = (UnitKind.ZONE, "MEERUT", "Meerut zone", "मेरठ ज़ोन")
MEERUT_RANGE = (UnitKind.RANGE, "MEERUT", "Meerut range", "मेरठ परिक्षेत्र")


@dataclass
class DemoContext:
    """What the steps share: where the data is, the units made so far, the reports."""

    data_dir: Path
    state: Unit | None = None
    district: Unit | None = None
    reports: dict[str, ImportReport] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


def step_districts(context: DemoContext) -> None:
    report = import_districts(context.data_dir / DISTRICTS_FILE)
    context.reports["districts"] = report
    context.state = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.STATE, Unit.code == "9")
    )


def step_subdistricts(context: DemoContext) -> None:
    context.reports["subdistricts"] = import_subdistricts(context.data_dir / SUBDISTRICTS_FILE)


def step_police_hierarchy(context: DemoContext) -> None:
    """Meerut zone and range under the state, and Baghpat moved under the range."""
    zone = _ensure_unit(*MEERUT_ZONE, parent=context.state)
    police_range = _ensure_unit(*MEERUT_RANGE, parent=zone)
    district = find_district(DEMO_DISTRICT_CODE)
    if district is None:
        raise GeoImportError(f"district {DEMO_DISTRICT_CODE} is missing from {DISTRICTS_FILE}")
    if district.parent_id != police_range.id:
        geo.move_unit(district, police_range)
        context.log.append(f"moved {district.name_en} under {police_range.name_en}")
    context.district = db.session.get(Unit, district.id)


def _ensure_unit(kind: UnitKind, code: str, name_en: str, name_hi: str, parent: Unit) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.kind == kind, Unit.code == code))
    if unit is None:
        unit = geo.create_unit(
            kind,
            name_en,
            parent,
            code=code,
            name_hi=name_hi,
            search_key=geo.names_search_key(name_en, name_hi),
        )
    return unit


def step_places(context: DemoContext) -> None:
    context.reports["places"] = import_places(
        context.data_dir / PLACES_FILE,
        DEMO_DISTRICT_CODE,
        local_bodies=context.data_dir / LOCAL_BODIES_FILE,
    )


def step_stations(context: DemoContext) -> None:
    context.reports["stations"] = import_stations(
        context.data_dir / STATIONS_FILE, DEMO_DISTRICT_CODE
    )


def step_attach(context: DemoContext) -> None:
    context.reports["attach"] = attach_places_to_nearest_station(context.district)


def step_people(context: DemoContext) -> None:
    from cplan.devdata.demo_people import ensure_demo_people

    context.log += ensure_demo_people(context.state, context.district)


def step_contacts(context: DemoContext) -> None:
    from cplan.devdata.demo_contacts import ensure_demo_contacts

    context.log += ensure_demo_contacts(context.district, context.data_dir)


def step_incidents(context: DemoContext) -> None:
    from cplan.devdata.demo_incidents import ensure_demo_incidents

    context.log += ensure_demo_incidents(context.state, context.district)


def step_messages(context: DemoContext) -> None:
    from cplan.devdata.demo_messages import ensure_demo_registry

    context.log += ensure_demo_registry()


def step_election(context: DemoContext) -> None:
    from cplan.devdata.demo_elections import ensure_demo_election

    context.log += ensure_demo_election(context.state, context.district)


def step_drives(context: DemoContext) -> None:
    from cplan.devdata.demo_drives import ensure_demo_drive

    context.log += ensure_demo_drive(context.district)


# Later issues append here: ("officers", step_officers), ("contacts", step_contacts)...
DEMO_STEPS: list[tuple[str, Callable[[DemoContext], None]]] = [
    ("UP districts", step_districts),
    ("UP sub-districts", step_subdistricts),
    ("Meerut zone and range", step_police_hierarchy),
    ("Baghpat villages and towns", step_places),
    ("Baghpat police stations", step_stations),
    ("places to nearest station", step_attach),
    ("posts and officers", step_people),
    ("contacts", step_contacts),
    ("incidents", step_incidents),
    ("DLT registry", step_messages),
    ("election, sensitive places and marks", step_election),
    ("verification drive and meetings", step_drives),
]


def any_unit_exists() -> bool:
    """True when any unit exists (``--if-empty`` then leaves the database alone)."""
    return db.session.scalar(select(Unit.id).limit(1)) is not None


def load_demo(folder: Path | str | None = None) -> DemoContext:
    """Run every demo step in order, reading ``folder`` (default: the shipped cplan/data);
    flushes, never commits."""
    context = DemoContext(data_dir=data_dir(folder))
    for _name, step in DEMO_STEPS:
        step(context)
    return context


@dataclass
class VillageAccount:
    """Where one village row of the places file ended up."""

    row: int
    name: str
    place: Place | None
    status: str  # "attached" or the reason it is not


def account_for_villages(context: DemoContext) -> list[VillageAccount]:
    """Every ``village`` row of the places file, with the station it reached or why not."""
    report = context.reports["places"]
    with open(context.data_dir / PLACES_FILE, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    keys = [report.row_keys.get(number) for number in range(2, len(rows) + 2)]
    places = {
        p.natural_key: p
        for p in db.session.scalars(
            select(Place).where(Place.natural_key.in_([k for k in keys if k]))
        )
    }
    accounts = []
    for number, (row, key) in enumerate(zip(rows, keys, strict=True), start=2):
        if row["type"].strip() != "village":
            continue
        place = places.get(key)
        if place is None:
            status = "not imported: " + _reason(report, number)
        elif place.station_id is not None:
            status = "attached"
        elif place.uninhabited:
            status = "not attached: uninhabited (" + (place.import_note or "see report") + ")"
        else:
            status = "not attached: " + (
                _reason(context.reports["attach"], None, place) or "see report"
            )
        accounts.append(VillageAccount(number, row["name"], place, status))
    return accounts


def _reason(report: ImportReport, row: int | None, place: Place | None = None) -> str:
    for note in report.notes:
        if (row is not None and note.row == row) or (
            place is not None and place.natural_key in note.subject
        ):
            return note.reason
    return ""


def demo_summary(context: DemoContext) -> list[str]:
    """Lines for the console: each import's counts, stations with place counts, every village."""
    lines = [f"  {message}" for message in context.log]
    lines += [report.summary() for report in context.reports.values()]
    district = context.district
    counts = geo.count_places_by_station(district)
    stations = db.session.scalars(geo.units_under(district, UnitKind.STATION).order_by(Unit.code))
    lines.append(f"police stations of {district.name_en}:")
    for station in stations:
        lines.append(
            f"  {station.code:<22} {station.name_en:<16} {station.name_hi:<16} "
            f"{counts.get(station.id, 0):>4} places"
        )
    accounts = account_for_villages(context)
    attached = [a for a in accounts if a.status == "attached"]
    as_towns = [a for a in attached if a.place.kind != "village"]
    lines.append(
        f"village rows in {PLACES_FILE}: {len(accounts)}; attached to a station: "
        f"{len(attached)} ({len(as_towns)} of them are Census towns, attached as towns); "
        f"not attached: {len(accounts) - len(attached)}"
    )
    lines += [f"  row {a.row} {a.name}: {a.status}" for a in accounts if a.status != "attached"]
    return lines
