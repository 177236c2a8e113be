"""The jurisdiction tree: subtree queries by path, and moving places between stations."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.models import Place, PlaceStationSpell, Unit, UnitKind, utcnow
from cplan.services import geo


@pytest.fixture
def baghpat(make_district, make_station, make_place, make_unit):
    district = make_district("Baghpat", code="124")
    baraut_circle = make_unit("circle", "Baraut circle", district)
    baraut = make_station(district, "Baraut", circle=baraut_circle)
    binauli = make_station(district, "Binauli", circle=baraut_circle)
    khekada = make_station(district, "Khekada")
    places = {
        "bijrol": make_place("BIJROL", station=baraut, lgd_code="119300"),
        "bamnauli": make_place("BAMNAULI", station=binauli, lgd_code="119301"),
        "khekra": make_place("KHEKRA", station=khekada, kind="town"),
    }
    return {
        "district": district,
        "circle": baraut_circle,
        "baraut": baraut,
        "binauli": binauli,
        "khekada": khekada,
        **places,
    }


def names(db, query):
    return sorted(row.name_en for row in db.session.scalars(query))


def test_places_under_a_district_are_all_its_stations_places(db, baghpat):
    assert names(db, geo.places_under(baghpat["district"])) == ["BAMNAULI", "BIJROL", "KHEKRA"]


def test_places_under_a_circle_exclude_other_circles(db, baghpat):
    assert names(db, geo.places_under(baghpat["circle"])) == ["BAMNAULI", "BIJROL"]


def test_places_under_a_station_are_only_its_own(db, baghpat):
    assert names(db, geo.places_under(baghpat["baraut"])) == ["BIJROL"]


def test_another_district_sees_nothing_of_baghpat(
    db, baghpat, make_district, make_station, make_place
):
    meerut = make_district("Meerut", code="135")
    make_place("KITHAUR", station=make_station(meerut, "Kithaur"))
    assert names(db, geo.places_under(meerut)) == ["KITHAUR"]
    assert "KITHAUR" not in names(db, geo.places_under(baghpat["district"]))


def test_a_unit_whose_id_shares_a_prefix_is_not_in_the_subtree(db, state, make_unit):
    # Paths /1/N/ and /1/N1/ share characters; the range must not confuse them. The ids are
    # chosen (above any in use) so the test does not depend on where the id sequence stands.
    base = state.id + 1000
    two = make_unit("zone", "Zone N", state, id=base)
    twenty_one = make_unit("zone", "Zone N1", state, id=int(f"{base}1"))
    assert twenty_one.path.startswith(two.path[:-1])
    assert twenty_one.id not in {u.id for u in db.session.scalars(geo.units_under(two))}


def test_stations_under_a_district_in_one_query(db, baghpat):
    stations = db.session.scalars(geo.units_under(baghpat["district"], UnitKind.STATION)).all()
    assert sorted(s.name_en for s in stations) == ["Baraut", "Binauli", "Khekada"]


def test_the_tree_refuses_a_station_directly_under_a_district(baghpat, make_unit):
    with pytest.raises(geo.TreeError):
        make_unit("station", "Nowhere", baghpat["district"])


def test_moving_a_place_to_a_new_station_keeps_its_history(db, baghpat, make_station):
    carved = make_station(baghpat["district"], "Chandinagar", circle=baghpat["circle"])
    place = baghpat["bijrol"]
    before_move = utcnow()
    geo.move_place(
        place,
        carved,
        reason="new thana carved out of Baraut",
        when=before_move + timedelta(seconds=1),
    )

    assert names(db, geo.places_under(carved)) == ["BIJROL"]
    assert names(db, geo.places_under(baghpat["baraut"])) == []
    spells = db.session.scalars(
        select(PlaceStationSpell)
        .where(PlaceStationSpell.place_id == place.id)
        .order_by(PlaceStationSpell.started_at)
    ).all()
    assert [s.station.name_en for s in spells] == ["Baraut", "Chandinagar"]
    assert spells[0].ended_at is not None and spells[1].ended_at is None
    assert geo.station_on(place, before_move).name_en == "Baraut"
    assert geo.station_on(place, utcnow() + timedelta(seconds=5)).name_en == "Chandinagar"


def test_a_place_cannot_move_to_a_station_of_another_district(
    db, baghpat, make_district, make_station
):
    meerut_station = make_station(make_district("Meerut", code="135"), "Kithaur")
    with pytest.raises(geo.TreeError):
        geo.move_place(baghpat["bijrol"], meerut_station, reason="wrong")


def test_moving_a_circle_moves_its_stations_and_places(db, baghpat, make_unit):
    other_district = baghpat["district"]  # re-hang the circle under a second district
    second = make_unit("district", "Shamli", other_district.parent, code="999")
    geo.move_unit(baghpat["circle"], second)
    db.session.expire_all()
    assert names(db, geo.places_under(second)) == ["BAMNAULI", "BIJROL"]
    assert names(db, geo.places_under(db.session.get(Unit, other_district.id))) == ["KHEKRA"]
    baraut = db.session.get(Unit, baghpat["baraut"].id)
    assert baraut.path.startswith(second.path)


def test_district_of_a_station_is_found_from_its_path(baghpat):
    assert geo.district_of(baghpat["baraut"]).id == baghpat["district"].id


def test_place_count_per_station(db, baghpat):
    counts = geo.count_places_by_station(baghpat["district"])
    assert counts == {baghpat["baraut"].id: 1, baghpat["binauli"].id: 1, baghpat["khekada"].id: 1}
    assert isinstance(db.session.get(Place, baghpat["bijrol"].id), Place)


def test_the_move_place_command_moves_with_history_and_an_audit_event(
    db, runner, baghpat, make_station
):
    from cplan.models import AuditEvent

    carved = make_station(
        baghpat["district"], "Chandinagar", code="124-CHANDINAGAR", circle=baghpat["circle"]
    )
    db.session.commit()
    result = runner.invoke(
        args=[
            "cplan",
            "geo",
            "move-place",
            "--place",
            "119300",
            "--station",
            "124-CHANDINAGAR",
            "--reason",
            "new thana carved out",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "now answers to Chandinagar" in result.output
    place = db.session.get(Place, baghpat["bijrol"].id)
    assert place.station_id == carved.id
    assert [s.station.name_en for s in place.station_spells] == ["Baraut", "Chandinagar"]
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "geo.place_moved")
    ).all()
    assert len(events) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--place", "999999", "--station", "124-BARAUT", "--reason", "because"], "no place"),
        (
            ["--place", "119300", "--station", "124-NOWHERE", "--reason", "because"],
            "no police station",
        ),
        (["--place", "119300", "--station", "124-BINAULI", "--reason", "x"], "reason"),
    ],
)
def test_the_move_place_command_refuses_bad_input_and_changes_nothing(
    db, runner, baghpat, args, message
):
    db.session.commit()
    result = runner.invoke(args=["cplan", "geo", "move-place", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.get(Place, baghpat["bijrol"].id).station_id == baghpat["baraut"].id
