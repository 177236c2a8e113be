"""The Baghpat demo data set: its police hierarchy, every village accounted for, and
``flask cplan demo [--if-empty]``."""

import secrets

import pytest
from sqlalchemy import func, select

from cplan import create_app
from cplan.devdata import demo
from cplan.models import Place, Unit, UnitKind
from cplan.services import geo


def test_the_demo_command_builds_baghpat_under_meerut_and_accounts_for_every_village(db, runner):
    result = runner.invoke(args=["cplan", "demo", "--if-empty"])
    assert result.exit_code == 0, result.output

    baghpat = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code == "124")
    )
    police_range = baghpat.parent
    zone = police_range.parent
    assert (baghpat.name_en, baghpat.name_hi) == ("Baghpat", "बागपत")
    assert (police_range.kind, police_range.name_hi) == (UnitKind.RANGE, "मेरठ परिक्षेत्र")
    assert (zone.kind, zone.name_hi) == (UnitKind.ZONE, "मेरठ ज़ोन")
    assert zone.parent.name_hi == "उत्तर प्रदेश"
    # Places and stations moved with the district: the subtree queries still find them all.
    assert len(db.session.scalars(geo.places_under(police_range)).all()) == 456
    assert len(db.session.scalars(geo.units_under(zone, UnitKind.STATION)).all()) == 11
    assert (
        db.session.scalar(select(func.count(Unit.id)).where(Unit.kind == UnitKind.DISTRICT)) == 75
    )

    # The summary: each station with its place count, and every village row accounted for.
    lines = result.output.splitlines()
    baraut = next(line for line in lines if line.strip().startswith("124-BARAUT"))
    assert int(baraut.split()[-2]) > 0
    assert any(
        line.strip().startswith("124-MAHILA-THANA") and line.split()[-2] == "0" for line in lines
    )
    assert "village rows in baghpat_villages.csv: 319; attached to a station: 312" in result.output
    unattached = [line for line in lines if ": not attached: " in line]
    assert len(unattached) == 7 and all("uninhabited" in line for line in unattached)
    assert "row 14 KHANDWARI KHADER: not attached: uninhabited" in result.output

    # make run calls it every time: with --if-empty the second run leaves everything alone.
    result = runner.invoke(args=["cplan", "demo", "--if-empty"])
    assert result.exit_code == 0
    assert "demo data not loaded" in result.output
    assert db.session.scalar(select(func.count(Place.id))) == 456

    # Demo posts for every role, each with an officer who can sign in with the demo password,
    # and the console shows how.
    from cplan.devdata.demo_people import DEMO_PASSWORD
    from cplan.models import Post, Role
    from cplan.services import accounts

    posts = db.session.scalars(select(Post)).all()
    assert {post.role for post in posts} == set(Role)
    sho_baraut = next(post for post in posts if post.title_en == "SHO Baraut")
    assert sho_baraut.unit.name_en == "Baraut" and sho_baraut.unit.kind == UnitKind.STATION
    assert accounts.authenticate_officer(sho_baraut, "124000004", DEMO_PASSWORD) is not None
    assert (
        accounts.authenticate_officer(sho_baraut, "124000005", DEMO_PASSWORD) is None
    )  # desk constable
    assert "9000001243   SHO Baraut" in result.output
    assert DEMO_PASSWORD in result.output


def test_demo_steps_are_a_list_later_issues_can_extend(app, monkeypatch):
    seen = []
    monkeypatch.setattr(
        demo,
        "DEMO_STEPS",
        [
            ("first", lambda c: seen.append("first")),
            ("officers", lambda c: seen.append(c.data_dir.name)),
        ],
    )
    demo.load_demo()
    assert seen == ["first", "data"]
    assert [name for name, _ in demo.DEMO_STEPS] == ["first", "officers"]


def test_the_demo_command_names_the_full_path_it_tried_and_how_to_give_another(
    app, db, runner, tmp_path
):
    app.config["DATA_DIR"] = str(tmp_path / "missing")
    result = runner.invoke(args=["cplan", "demo"])
    assert result.exit_code == 1
    assert (
        f"cannot read {tmp_path / 'missing' / 'up_districts.csv'} (No such file or directory)"
        in result.output
    )
    assert "--data-dir" in result.output and "CPLAN_DATA_DIR" in result.output
    assert db.session.scalar(select(func.count(Unit.id))) == 0


def test_the_data_dir_option_wins_over_the_configured_folder(app, db, runner, tmp_path):
    app.config["DATA_DIR"] = str(tmp_path / "missing")
    other = tmp_path / "other"
    other.mkdir()
    result = runner.invoke(args=["cplan", "geo", "districts", "--data-dir", str(other)])
    assert result.exit_code == 1
    assert str(other / "up_districts.csv") in result.output


def test_the_reference_data_ships_inside_the_package():
    """A bare clone has nothing beside it: every file the demo and generator read is in
    cplan/data."""
    from cplan import data

    for name in (
        data.DISTRICTS_FILE,
        data.SUBDISTRICTS_FILE,
        data.DEMO_PLACES_FILE,
        data.DEMO_STATIONS_FILE,
        data.NAMES_FILE,
    ):
        assert data.data_file(name).parent == data.PACKAGED_DATA_DIR
    readme = (data.PACKAGED_DATA_DIR / "README.md").read_text(encoding="utf-8")
    for name in ("up_districts.csv", "baghpat_villages.csv", "names_hi_en.csv"):
        assert name in readme


@pytest.mark.parametrize(
    "command",
    [["cplan", "demo"], ["cplan", "demo", "--if-empty"], ["cplan", "generate", "--scale", "0.002"]],
)
def test_production_refuses_the_demo_and_the_generator_and_their_published_password(
    tmp_path, command
):
    # No test app context here: the command must run in the production app's own context.
    database = tmp_path / "production.sqlite"
    production = create_app(
        {
            "ENV_NAME": "production",
            "SMS_BACKEND": "http",
            "SMS_BROADCAST_BACKEND": "msdg",
            "SECRET_KEY": secrets.token_urlsafe(32),
            "AUDIT_CHECKPOINT_KEY": secrets.token_urlsafe(32),
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        }
    )
    result = production.test_cli_runner().invoke(args=command)
    assert result.exit_code == 1
    assert "refuses to run in production" in result.output
    assert (
        not database.exists() or database.stat().st_size == 0
    )  # refused before touching the database
