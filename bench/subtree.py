"""Subtree queries at state scale: 75 districts, 1,500 police stations, 110,274 villages.

Builds the tree with the real shape (district village counts from up_districts.csv), then
times the scope queries every page uses and shows the query plan. Usage::

    python -m bench.subtree                 # a temporary SQLite file
    CPLAN_BENCH_DATABASE_URL=postgresql://root@/cplan_bench?host=/var/run/postgresql python -m
    bench.subtree
"""

import csv
import os
import statistics
import sys
import tempfile
import time

from sqlalchemy import func, insert, select, text

from cplan import create_app
from cplan.data import PACKAGED_DATA_DIR
from cplan.extensions import db
from cplan.models import Place, PlaceKind, Unit, UnitKind
from cplan.services import geo

STATIONS_PER_DISTRICT = 20
DATA = PACKAGED_DATA_DIR


def build(state_scale_districts):
    state = geo.create_unit(UnitKind.STATE, "Uttar Pradesh", code="9")
    zone = geo.create_unit(UnitKind.ZONE, "Zone", state, code="Z")
    police_range = geo.create_unit(UnitKind.RANGE, "Range", zone, code="R")
    place_rows = []
    lgd = 1
    for code, name, villages in state_scale_districts:
        district = geo.create_unit(UnitKind.DISTRICT, name, police_range, code=code)
        stations = []
        for circle_no in range(4):
            circle = geo.create_unit(
                UnitKind.CIRCLE, f"{name} circle {circle_no}", district, code=f"{code}-C{circle_no}"
            )
            for n in range(STATIONS_PER_DISTRICT // 4):
                stations.append(
                    geo.create_unit(
                        UnitKind.STATION,
                        f"{name} PS {circle_no}{n}",
                        circle,
                        code=f"{code}-S{circle_no}{n}",
                    )
                )
        for i in range(villages):
            station = stations[i % len(stations)]
            place_rows.append(
                dict(
                    kind=PlaceKind.VILLAGE,
                    natural_key=f"lgd:{lgd}",
                    lgd_code=str(lgd),
                    name_en=f"Village {lgd}",
                    name_hi="",
                    search_key=f"vilej{lgd}",
                    district_id=district.id,
                    station_id=station.id,
                    unit_path=station.path,
                    name_generated=False,
                    aliases="",
                    uninhabited=False,
                    import_note="",
                )
            )
            lgd += 1
    db.session.execute(insert(Place), place_rows)
    db.session.commit()
    return lgd - 1


def timed(label, fn, runs=30):
    fn()  # warm the cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    print(
        f"  {label:<52} median {statistics.median(samples):7.2f} ms   p95 "
        f"{samples[int(runs * 0.95) - 1]:7.2f} ms   -> {result}"
    )


def main():
    url = os.environ.get("CPLAN_BENCH_DATABASE_URL")
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.sqlite"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40, "ENV_NAME": "testing"}
    )
    with open(DATA / "up_districts.csv", encoding="utf-8") as handle:
        districts = [
            (r["district_code"], r["district_name"], int(r["village_count"]))
            for r in csv.DictReader(handle)
        ]
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        villages = build(districts)
        stations = db.session.scalar(select(func.count()).where(Unit.kind == UnitKind.STATION))
        print(
            f"{db.engine.dialect.name}: built {len(districts)} districts, {stations} stations, "
            f"{villages} villages in {time.perf_counter() - started:.1f} s"
        )
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
        db.session.commit()
        big = db.session.scalar(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT).order_by(Unit.id.desc())
        )
        big = max(
            db.session.scalars(select(Unit).where(Unit.kind == UnitKind.DISTRICT)),
            key=lambda d: db.session.scalar(
                select(func.count()).select_from(geo.places_under(d).subquery())
            ),
        )
        station = db.session.scalars(geo.units_under(big, UnitKind.STATION)).first()
        state = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE))

        def count_under(unit):
            return lambda: db.session.scalar(
                select(func.count(Place.id)).where(unit.covers(Place.unit_path))
            )

        timed(f"count places under the largest district ({big.name_en})", count_under(big))
        timed("count places under one station", count_under(station))
        timed(
            "first page (50) of a station's places by name",
            lambda: len(
                db.session.scalars(
                    geo.places_under(station).order_by(Place.name_en).limit(50)
                ).all()
            ),
        )
        timed(
            "stations under the largest district",
            lambda: len(db.session.scalars(geo.units_under(big, UnitKind.STATION)).all()),
        )
        timed(
            "place counts per station, whole district (grouped)",
            lambda: len(geo.count_places_by_station(big)),
        )
        timed("count places under the state", count_under(state), runs=5)
        query = select(func.count(Place.id)).where(big.covers(Place.unit_path))
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
        print("  plan for 'count places under a district':")
        for row in db.session.execute(text(explain + str(compiled))):
            print("    " + " ".join(str(c) for c in row))
        db.session.remove()
        db.drop_all()
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
