"""Shared fixtures: the app on SQLite or PostgreSQL, a clean database per test, factories.

Set ``CPLAN_TEST_DATABASE_URL`` (e.g. ``postgresql://root@/cplan_test?host=/var/run/postgresql``)
to run the whole suite on PostgreSQL; otherwise each run uses a fresh SQLite file.
"""
import os

import pytest
from sqlalchemy import text

from cplan import create_app
from cplan.config import normalise_database_url
from cplan.extensions import db as _db
from cplan.models import Place, PlaceKind, Unit, UnitKind
from cplan.services import geo

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("CPLAN_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "cplan-test.sqlite")


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Create the schema once per run (from the models; migrations are tested separately)."""
    app = create_app(_test_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        _db.engine.dispose()
    return True


def _test_config(database_url, instance_path):
    return {
        "TESTING": True,
        "ENV_NAME": "testing",
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SMS_BACKEND": "memory",
        "SERVER_NAME": "localhost",
    }


@pytest.fixture
def app(_schema, database_url, tmp_path):
    """A fresh app per test; every table is emptied afterwards."""
    app = create_app(_test_config(database_url, tmp_path))
    with app.app_context():
        yield app
        _db.session.remove()
        _empty_all_tables()
        _db.engine.dispose()


def _empty_all_tables():
    tables = list(reversed(_db.metadata.sorted_tables))
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---- factories -------------------------------------------------------------------------------


@pytest.fixture
def make_unit(db):
    def make(kind, name_en, parent=None, **fields):
        return geo.create_unit(UnitKind(kind), name_en, parent, **fields)

    return make


@pytest.fixture
def state(make_unit):
    return make_unit("state", "Uttar Pradesh", name_hi="उत्तर प्रदेश", code="9")


@pytest.fixture
def make_district(make_unit, state):
    """A district under its own zone and range (``make_district("Baghpat", code="124")``)."""
    def make(name_en, code=None, name_hi=""):
        zone = make_unit("zone", f"{name_en} zone", state)
        police_range = make_unit("range", f"{name_en} range", zone)
        return make_unit("district", name_en, police_range, code=code, name_hi=name_hi)

    return make


@pytest.fixture
def make_station(make_unit):
    """A police station under a new circle of ``district``."""
    def make(district, name_en, code=None, circle=None):
        circle = circle or make_unit("circle", f"Circle {name_en}", district)
        return make_unit("station", name_en, circle, code=code or f"{district.code}-{name_en.upper()}")

    return make


@pytest.fixture
def make_place(db):
    counter = {"n": 0}

    def make(name_en, district=None, station=None, kind="village", lgd_code=None, name_hi="", **fields):
        counter["n"] += 1
        district = district or _district_of(station)
        place = Place(
            kind=PlaceKind(kind),
            name_en=name_en,
            name_hi=name_hi,
            lgd_code=lgd_code,
            natural_key=f"lgd:{lgd_code}" if lgd_code else f"test:{counter['n']}:{name_en}",
            district_id=district.id,
            district=district,
            **fields,
        )
        return geo.add_place(place, station)

    return make


def _district_of(station):
    return geo.district_of(station)
