"""Importing the official geography: real LGD and Baghpat files, each data quirk, idempotency,
malformed files, and the ``flask cplan geo`` commands."""

import csv

import pytest
from sqlalchemy import func, select

from cplan.data import data_dir as reference_data_dir
from cplan.models import Place, PlaceKind, PlaceStationSpell, Subdistrict, Unit, UnitKind
from cplan.pipelines.geo_import import (
    GeoImportError,
    attach_places_to_nearest_station,
    distance_km,
    find_district,
    import_districts,
    import_places,
    import_stations,
    import_subdistricts,
    station_headquarters,
)
from cplan.services import geo
from tests.geo_files import PLACES_HEADER, notes_for_row, place, write


@pytest.fixture
def data_dir(app):
    return reference_data_dir()


@pytest.fixture
def baghpat_lgd(lgd_districts):
    """The state, Baghpat and its three sub-districts, from the real LGD rows."""
    return lgd_districts("124")["124"]


@pytest.fixture
def places_report(baghpat_lgd, data_dir):
    """Baghpat's places as the demo imports them, with LGD's local bodies naming census towns."""
    return import_places(
        data_dir / "baghpat_villages.csv",
        "124",
        local_bodies=data_dir / "up_urban_local_bodies.csv",
    )


@pytest.fixture
def stations_report(places_report, data_dir):
    return import_stations(data_dir / "baghpat_police_stations.csv", "124")


@pytest.fixture
def attach_report(stations_report, baghpat_lgd):
    return attach_places_to_nearest_station(baghpat_lgd)


def snapshot(db):
    """Every row of every table, ordered by primary key."""
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns)
        rows[table.name] = [tuple(r) for r in db.session.execute(select(table).order_by(*order))]
    return rows


# ---- the real files --------------------------------------------------------------------------


def test_the_lgd_district_list_gives_75_districts_under_uttar_pradesh(db, data_dir):
    report = import_districts(data_dir / "up_districts.csv")

    state = db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATE))
    districts = db.session.scalars(select(Unit).where(Unit.kind == UnitKind.DISTRICT)).all()
    assert (report.created, len(districts)) == (75, 75)
    assert (state.code, state.name_en, state.name_hi) == ("9", "Uttar Pradesh", "उत्तर प्रदेश")
    assert {d.parent_id for d in districts} == {state.id}
    baghpat = find_district(124)
    assert (baghpat.name_hi, baghpat.name_generated, baghpat.census_2011_code) == (
        "बागपत",
        False,
        "139",
    )
    assert all(d.name_hi and not d.name_generated for d in districts)
    assert "Allahabad" in find_district(120).aliases


def test_the_lgd_sub_district_list_gives_350_tehsils_in_their_districts(db, data_dir):
    import_districts(data_dir / "up_districts.csv")
    report = import_subdistricts(data_dir / "up_subdistricts.csv")

    assert report.created == db.session.scalar(select(func.count(Subdistrict.id))) == 350
    baghpat = find_district(124)
    names = db.session.scalars(
        select(Subdistrict.name_en)
        .where(Subdistrict.district_id == baghpat.id)
        .order_by(Subdistrict.lgd_code)
    )
    assert list(names) == ["Baraut", "Baghpat", "Khekada"]


def test_every_row_of_the_baghpat_places_file_is_accounted_for(db, data_dir, places_report):
    with open(data_dir / "baghpat_villages.csv", encoding="utf-8", newline="") as handle:
        row_count = len(list(csv.DictReader(handle)))
    keys = set(places_report.row_keys.values())

    assert sorted(places_report.row_keys) == list(range(2, row_count + 2))
    stored = set(db.session.scalars(select(Place.natural_key)))
    assert keys == stored
    by_kind = dict(
        db.session.execute(select(Place.kind, func.count(Place.id)).group_by(Place.kind)).all()
    )
    assert by_kind == {PlaceKind.VILLAGE: 311, PlaceKind.TOWN: 9, PlaceKind.WARD: 136}
    assert db.session.scalar(select(func.count(Place.id)).where(Place.lgd_code.is_not(None))) == 303
    assert places_report.created == len(stored) == 456


def test_baghpat_gets_eleven_police_stations(db, stations_report, baghpat_lgd):
    stations = db.session.scalars(geo.units_under(baghpat_lgd, UnitKind.STATION)).all()
    assert stations_report.created == len(stations) == 11
    assert {s.code for s in stations} >= {
        "124-BAGHPAT",
        "124-BARAUT",
        "124-KHEKADA",
        "124-MAHILA-THANA",
    }
    assert all(s.code.startswith("124-") and s.code.isascii() for s in stations)


def import_everything(data_dir):
    reports = [
        import_districts(data_dir / "up_districts.csv"),
        import_subdistricts(data_dir / "up_subdistricts.csv"),
        import_places(
            data_dir / "baghpat_villages.csv",
            "124",
            local_bodies=data_dir / "up_urban_local_bodies.csv",
        ),
        import_stations(data_dir / "baghpat_police_stations.csv", "124"),
    ]
    reports.append(attach_places_to_nearest_station(find_district("124")))
    return reports


def test_running_every_import_twice_leaves_the_database_unchanged(db, data_dir):
    import_everything(data_dir)
    db.session.flush()
    before = snapshot(db)

    reports = import_everything(data_dir)
    db.session.flush()

    assert snapshot(db) == before
    assert [(r.created, r.updated) for r in reports] == [(0, 0)] * 5
    assert [r.unchanged for r in reports] == [75, 350, 456, 11, 449]


# ---- each quirk of the places file -----------------------------------------------------------


CENSUS_TOWNS = [  # (row of the census code, census code, OpenStreetMap town it merges with)
    (261, "800720", "Chhaprauli"),
    (138, "800721", "Tikri"),
    (170, "800722", "Doghat"),
    (260, "800723", "Baraut"),
    (109, "800724", "Baghpat"),
    (16, "800725", "Agarwal Mandi (Tatiri)"),
    (295, "800727", "Khekada"),
]


def test_a_census_town_code_in_the_lgd_column_is_merged_into_its_town(db, places_report):
    for row, code, town in CENSUS_TOWNS:
        merged = place(db, f"census:{code}")

        assert (merged.kind, merged.name_en, merged.census_2011_code, merged.lgd_code) == (
            PlaceKind.TOWN,
            town,
            code,
            None,
        )
        assert places_report.row_keys[row] == f"census:{code}"
        assert db.session.scalar(select(Place).where(Place.lgd_code == code)) is None
        [note] = notes_for_row(places_report, row, "merged")
        assert "Census 2011 town code" in note.reason and town in note.reason
        assert db.session.scalar(select(func.count(Place.id)).where(Place.town_id == merged.id)) > 0


def test_a_census_town_named_officially_like_its_town_is_merged_and_keeps_both_names(
    db, places_report
):
    # The file calls census town 800723 BAZIDPUR (a village's name); LGD's local bodies call it
    # Badaut, which is Baraut: merged by that name, not by nearness.
    baraut = place(db, "census:800723")
    assert (baraut.name_en, baraut.aliases) == ("Baraut", "BAZIDPUR | Badaut")
    [note] = notes_for_row(places_report, 260)
    assert (
        note.action == "merged"
        and "LGD local bodies: Badaut" in note.reason
        and "same name" in note.reason
    )


def test_a_census_town_near_a_town_of_another_name_stays_separate_and_is_flagged(
    db, baghpat_lgd, data_dir
):
    report = import_places(data_dir / "baghpat_villages.csv", "124")  # no official names to go by

    bazidpur, baraut = place(db, "census:800723"), place(db, "town:124:baraut")
    assert (bazidpur.kind, bazidpur.name_en, bazidpur.census_2011_code) == (
        PlaceKind.TOWN,
        "Bazidpur",
        "800723",
    )
    assert baraut.census_2011_code is None
    assert db.session.scalar(select(func.count(Place.id)).where(Place.town_id == bazidpur.id)) == 0
    [note] = notes_for_row(report, 260)
    assert note.action == "flagged"
    assert "the nearest town, Baraut (row 363), is 3.0 km away" in note.reason
    assert "kept as a separate town" in note.reason
    assert "Baraut" in bazidpur.import_note and "3.0 km" in bazidpur.import_note


def test_a_census_town_with_no_town_nearby_stays_separate_and_is_flagged(db, places_report):
    aminagar = place(db, "census:800726")
    rataul = place(db, "town:124:rataul")

    assert aminagar.kind == rataul.kind == PlaceKind.TOWN
    assert rataul.census_2011_code is None
    assert db.session.scalar(select(func.count(Place.id)).where(Place.town_id == aminagar.id)) == 0
    [note] = notes_for_row(places_report, 19, "flagged")
    assert "kept as a separate town" in note.reason and "km away" in note.reason
    assert any("no Census 2011 town row" in n.reason for n in notes_for_row(places_report, 454))


def test_a_village_without_a_code_gets_a_name_key_and_is_flagged(db, places_report):
    # River-bed (KHADER), forest (RF) and deserted (VIRAN) parcels are uninhabited; the one
    # uncoded row without such a marker stays an inhabited village.
    for row, name, uninhabited in [
        (14, "KHANDWARI KHADER", True),
        (31, "NIWARA RF", True),
        (313, "HAJIPUR (VIRAN)", True),
        (222, "BARAUT PATTI MAHAR OR BARU", False),
    ]:
        key = places_report.row_keys[row]
        parcel = place(db, key)

        assert key.startswith("name:124:7") and parcel.lgd_code is None
        assert parcel.uninhabited is uninhabited
        assert parcel.import_note.startswith("no LGD code")
        [note] = notes_for_row(places_report, row, "flagged")
        assert note.subject == name and "no LGD code" in note.reason
    assert place(db, "name:124:736:khandwari-khader").subdistrict.name_en == "Baghpat"
    assert db.session.scalar(select(func.count(Place.id)).where(Place.uninhabited.is_(True))) == 7


def test_towns_sharing_one_point_get_the_centre_of_their_wards(db, places_report):
    doghat = place(db, "census:800722")
    baraut = place(db, "census:800723")
    wards = db.session.scalars(select(Place).where(Place.town_id == doghat.id)).all()

    assert (doghat.latitude, doghat.longitude) != (29.102789, 77.258745)
    assert (
        distance_km((doghat.latitude, doghat.longitude), (baraut.latitude, baraut.longitude)) > 10
    )
    assert (
        max(
            distance_km((doghat.latitude, doghat.longitude), (w.latitude, w.longitude))
            for w in wards
        )
        < 1.5
    )
    flagged = {
        n.subject for n in places_report.notes_about("flagged") if "also given for" in n.reason
    }
    assert flagged == {"Doghat", "Baraut", "Baghpat", "Agarwal Mandi (Tatiri)", "Khekada"}
    assert "centre of its wards" in doghat.import_note


def test_a_ward_name_repeated_in_one_town_is_one_place(db, places_report):
    # Tikri lists "Dabra West" on rows 343 and 344.
    assert (
        places_report.row_keys[343]
        == places_report.row_keys[344]
        == "ward:census:800721:dabra-west"
    )
    dabra = place(db, "ward:census:800721:dabra-west")
    assert dabra.latitude == pytest.approx((29.232819 + 29.234348) / 2)
    [note] = notes_for_row(places_report, 344, "merged")
    assert "repeated in Tikri" in note.reason


def test_a_locality_listed_under_two_towns_is_one_place_under_the_nearest_town(db, places_report):
    # "Dream City Baraut" appears under Doghat (row 362) and Baraut (row 389) at one point.
    assert (
        places_report.row_keys[362]
        == places_report.row_keys[389]
        == "ward:census:800723:dream-city-baraut"
    )
    locality = place(db, "ward:census:800723:dream-city-baraut")
    assert locality.town.name_en == "Baraut"
    assert all(
        n.action == "merged"
        for n in notes_for_row(places_report, 362) + notes_for_row(places_report, 389)
    )


def test_wards_hang_on_their_town_and_take_its_sub_district(db, places_report):
    wards = db.session.scalars(select(Place).where(Place.kind == PlaceKind.WARD)).all()
    assert wards and all(w.town_id is not None for w in wards)
    assert all(w.natural_key.startswith(f"ward:{w.town.natural_key}:") for w in wards)
    assert all(w.subdistrict_id == w.town.subdistrict_id is not None for w in wards)


def test_capitalised_official_names_are_title_cased_and_kept_as_aliases(db, places_report):
    village = place(db, "lgd:119437")
    assert (village.name_en, village.aliases) == ("Surajpur Menwa", "SURAJPUR MENWA")
    assert village.name_hi and village.name_generated
    assert village.subdistrict.name_en == "Baghpat"
    assert village.search_key and len(village.search_key) <= 400


def test_an_unclosed_parenthesis_in_a_town_name_is_closed_and_reported(db, places_report):
    assert place(db, "census:800725").name_en == "Agarwal Mandi (Tatiri)"
    assert any("unclosed parenthesis" in n.reason for n in notes_for_row(places_report, 416))


def test_an_unknown_sub_district_is_reported_and_left_blank(db, baghpat_lgd, tmp_path):
    path = write(
        tmp_path, PLACES_HEADER + "\n9,124,Baghpat,NEWGAON,Nowhere,village,29.0,77.3,999001\n"
    )
    report = import_places(path, "124")
    assert place(db, "lgd:999001").subdistrict_id is None
    [note] = report.notes
    assert note.row == 2 and "'Nowhere' matches none" in note.reason


# ---- stations --------------------------------------------------------------------------------


def test_station_names_come_from_source_b_with_the_other_spelling_as_alias(db, stations_report):
    chhaprauli = db.session.scalar(select(Unit).where(Unit.code == "124-CHHAPRAULI"))
    baghpat = db.session.scalar(select(Unit).where(Unit.code == "124-BAGHPAT"))
    women = db.session.scalar(select(Unit).where(Unit.code == "124-MAHILA-THANA"))

    assert (chhaprauli.name_hi, chhaprauli.name_en) == ("छपरोली", "Chhaprauli")
    assert "छपरौली" in chhaprauli.aliases
    assert (baghpat.name_en, baghpat.name_hi) == ("Baghpat", "बागपत")  # from "Kotwali Baghpat"
    assert women.name_hi == "महिला थाना"
    assert any("spell it differently" in n.reason for n in notes_for_row(stations_report, 5))


def test_stations_sit_in_circles_named_after_their_hq_sub_district(
    db, stations_report, baghpat_lgd
):
    circles = db.session.scalars(geo.units_under(baghpat_lgd, UnitKind.CIRCLE)).all()
    members = {c.name_en: sorted(s.name_en for s in c.children) for c in circles}
    # Chandinagar and the women police station give no HQ sub-district: the district's circle.
    assert members == {
        "Baghpat circle": ["Baghpat", "Baleni", "Chandinagar", "Mahila Thana", "Singauli Ahir"],
        "Baraut circle": ["Baraut", "Binauli", "Chhaprauli", "Doghat", "Ramala"],
        "Khekada circle": ["Khekada"],
    }
    assert {c.name_hi for c in circles} == {"बागपत सर्किल", "बड़ौत सर्किल", "खेकड़ा सर्किल"}


def test_a_circle_column_in_the_stations_file_wins(db, places_report, baghpat_lgd, tmp_path):
    path = write(
        tmp_path,
        "district_lgd_code,thana_hi_source_B,thana_hi_source_A,thana_en_source_C,"
        "hq_place_lgd_or_census_name,hq_place_code,hq_subdistrict,circle\n"
        "124,बड़ौत,,,Baraut,800723,Baraut,City circle\n",
        name="stations.csv",
    )
    import_stations(path, "124")
    station = db.session.scalar(select(Unit).where(Unit.code == "124-BARAUT"))
    assert station.parent.name_en == "City circle"


def test_each_station_hq_place_is_attached_to_it_and_takes_its_hindi_name(
    db, stations_report, baghpat_lgd
):
    headquarters = station_headquarters(baghpat_lgd)
    by_code = {db.session.get(Unit, sid).code: hq for sid, hq in headquarters.items()}

    assert len(by_code) == 9
    assert by_code["124-BARAUT"].natural_key == "census:800723"
    assert by_code["124-BINAULI"].natural_key == "lgd:119368"
    assert (by_code["124-BARAUT"].name_hi, by_code["124-BARAUT"].name_generated) == ("बड़ौत", False)
    assert by_code["124-BARAUT"].station.code == "124-BARAUT"


def test_stations_imported_before_their_places_keep_their_codes_and_find_their_hq_later(
    db, baghpat_lgd, data_dir
):
    stations_file = data_dir / "baghpat_police_stations.csv"
    first = import_stations(stations_file, "124")
    codes = set(db.session.scalars(select(Unit.code).where(Unit.kind == UnitKind.STATION)))
    assert (
        sum("not among the district's places (import places first" in n.reason for n in first.notes)
        == 9
    )

    import_places(
        data_dir / "baghpat_villages.csv",
        "124",
        local_bodies=data_dir / "up_urban_local_bodies.csv",
    )
    second = import_stations(stations_file, "124")

    assert set(db.session.scalars(select(Unit.code).where(Unit.kind == UnitKind.STATION))) == codes
    assert (second.created, second.updated, second.unchanged) == (0, 9, 2)
    assert len(station_headquarters(baghpat_lgd)) == 9


def test_stations_without_an_hq_are_imported_and_flagged(db, stations_report, baghpat_lgd):
    headquarters = station_headquarters(baghpat_lgd)
    for name_hi, row, reason in (
        ("चांदीनगर", 11, "no HQ place"),
        ("महिला थाना", 12, "women police station"),
    ):
        station = db.session.scalar(
            select(Unit).where(Unit.kind == UnitKind.STATION, Unit.name_hi == name_hi)
        )
        assert station.id not in headquarters
        assert any(reason in n.reason for n in notes_for_row(stations_report, row, "flagged"))


# ---- attaching places to stations ------------------------------------------------------------


def test_every_inhabited_place_goes_to_the_station_with_the_nearest_hq(
    db, attach_report, baghpat_lgd
):
    headquarters = {
        sid: (p.latitude, p.longitude) for sid, p in station_headquarters(baghpat_lgd).items()
    }
    places = db.session.scalars(select(Place)).all()

    for one in places:
        if one.uninhabited:
            assert one.station_id is None
        elif one.kind == PlaceKind.WARD:
            assert one.station_id == one.town.station_id is not None
        else:
            point = (one.latitude, one.longitude)
            nearest = min(distance_km(point, hq) for hq in headquarters.values())
            assert distance_km(point, headquarters[one.station_id]) == pytest.approx(nearest), (
                one.name_en
            )
    # Every attached place has its opening history spell.
    open_spells = db.session.scalar(
        select(func.count(PlaceStationSpell.id)).where(PlaceStationSpell.ended_at.is_(None))
    )
    assert open_spells == 449 == len(places) - 7
    assert sum(attach_report.per_station.values()) == attach_report.updated == 440
    # The two stations without HQ coordinates receive nothing, and say so.
    skipped = {
        n.subject for n in attach_report.notes_about("skipped") if n.subject.startswith("station ")
    }
    assert skipped == {
        "station Chandinagar (124-CHANDINAGAR)",
        "station Mahila Thana (124-MAHILA-THANA)",
    }
    assert len(geo.count_places_by_station(baghpat_lgd)) == 9


def test_a_ward_goes_with_its_towns_station_even_when_another_hq_is_nearer(
    db, baghpat_lgd, tmp_path
):
    import_places(
        write(
            tmp_path,
            PLACES_HEADER + "\n"
            "9,124,Baghpat,WESTGAON,Baraut,village,29.0,77.0,119901\n"
            "9,124,Baghpat,EASTGAON,Baraut,village,29.0,77.1,119902\n"
            "9,124,Baghpat,Newtown,Newtown,city,29.0,77.01,\n"
            "9,124,Baghpat,Far Ward,Newtown,ward,29.0,77.09,\n",
        ),
        "124",
    )
    import_stations(
        write(
            tmp_path,
            "district_lgd_code,thana_hi_source_B,thana_hi_source_A,thana_en_source_C,"
            "hq_place_lgd_or_census_name,hq_place_code,hq_subdistrict\n"
            "124,पश्चिम,,West,,119901,Baraut\n124,पूर्व,,East,,119902,Baraut\n",
            name="stations.csv",
        ),
        "124",
    )

    attach_places_to_nearest_station(baghpat_lgd)

    ward = place(db, "ward:town:124:newtown:far-ward")
    assert ward.town.station.name_en == ward.station.name_en == "West"
    assert ward.station_spells[0].reason.startswith("ward of Newtown")


def test_uninhabited_places_and_places_without_coordinates_are_listed_not_dropped(
    db, baghpat_lgd, tmp_path
):
    path = write(
        tmp_path,
        PLACES_HEADER + "\n"
        "9,124,Baghpat,BARAUT,Baraut,village,29.1,77.26,119999\n"
        "9,124,Baghpat,NOWHERE,Baraut,village,,,119998\n"
        "9,124,Baghpat,BARAUT KHADER,Baraut,village,29.1,77.2,\n",
    )
    import_places(path, "124")
    stations = write(
        tmp_path,
        "district_lgd_code,thana_hi_source_B,thana_hi_source_A,thana_en_source_C,"
        "hq_place_lgd_or_census_name,hq_place_code,hq_subdistrict\n"
        "124,बड़ौत,,,BARAUT (village),119999,Baraut\n",
        name="stations.csv",
    )
    import_stations(stations, "124")

    report = attach_places_to_nearest_station(baghpat_lgd)

    reasons = {n.subject.split(" (")[0]: n.reason for n in report.notes}
    assert reasons["Nowhere"].startswith("no coordinates")
    assert reasons["Baraut Khader"].startswith("uninhabited")
    assert place(db, "lgd:119998").station_id is None


def test_attaching_needs_a_station_with_hq_coordinates(db, baghpat_lgd, data_dir):
    import_stations(data_dir / "baghpat_police_stations.csv", "124")  # before the places: no HQ
    with pytest.raises(GeoImportError, match="no police station of Baghpat has HQ coordinates"):
        attach_places_to_nearest_station(baghpat_lgd)


# ---- malformed files -------------------------------------------------------------------------

GOOD_ROW = "9,124,Baghpat,SURAJPUR MENWA,Baghpat,village,28.94194,77.275868,119437"


@pytest.mark.parametrize(
    "content, row, column",
    [
        ("", 1, None),
        (PLACES_HEADER + "\n", 2, None),
        (PLACES_HEADER.replace(",lgd_code", ",code") + "\n" + GOOD_ROW, 1, "lgd_code"),
        (
            PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,village,28.9,77.2,11943७",
            3,
            "lgd_code",
        ),
        (
            PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,village,28.9,77.2,abc",
            3,
            "lgd_code",
        ),
        (
            PLACES_HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW.replace(",124,", ",125,"),
            3,
            "district_code",
        ),
        (
            PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,hamlet,28.9,77.2,1",
            3,
            "type",
        ),
        (
            PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,village,north,77.2,1",
            3,
            "lat",
        ),
        (PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,village,28.9,77.2", 3, None),
        (PLACES_HEADER + "\n" + GOOD_ROW + "\n" + GOOD_ROW, 3, "lgd_code"),
    ],
    ids=[
        "empty",
        "header-only",
        "missing-column",
        "devanagari-digit",
        "non-numeric-code",
        "other-district",
        "unknown-type",
        "bad-latitude",
        "short-row",
        "duplicate-code",
    ],
)
def test_a_malformed_places_file_imports_nothing_and_names_row_and_column(
    db, baghpat_lgd, tmp_path, content, row, column
):
    with pytest.raises(GeoImportError) as error:
        import_places(write(tmp_path, content), "124")

    assert (error.value.row, error.value.column) == (row, column)
    assert f"row {row}" in str(error.value) and "places.csv" in str(error.value)
    if column:
        assert repr(column) in str(error.value)
    assert db.session.scalar(select(func.count(Place.id))) == 0


def test_a_file_that_is_not_utf8_is_refused_naming_row_and_column(db, baghpat_lgd, tmp_path):
    path = write(
        tmp_path,
        PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,BARAÜT,Baraut,village,,,7\n",
        encoding="latin-1",
    )
    with pytest.raises(GeoImportError, match=r"row 3, column 'name': not UTF-8"):
        import_places(path, "124")
    assert db.session.scalar(select(func.count(Place.id))) == 0


def test_a_utf8_file_with_a_byte_order_mark_is_accepted(db, baghpat_lgd, tmp_path):
    path = write(tmp_path, "\ufeff" + PLACES_HEADER + "\r\n" + GOOD_ROW + "\r\n")
    report = import_places(path, "124")
    assert report.created == 1 and place(db, "lgd:119437").name_en == "Surajpur Menwa"


def test_sub_districts_of_a_district_not_imported_are_refused_naming_the_row(
    db, baghpat_lgd, tmp_path
):
    path = write(
        tmp_path,
        "state_code,state_name,district_code,district_name,subdistrict_code,subdistrict_name\n"
        "9,Uttar Pradesh,124,Baghpat,735,Baraut\n9,Uttar Pradesh,999,Nowhere,9001,Nowhere\n",
        name="subdistricts.csv",
    )
    with pytest.raises(
        GeoImportError, match=r"row 3, column 'district_code': district 999 is not in the database"
    ):
        import_subdistricts(path)


def test_a_stations_file_of_another_district_is_refused(db, places_report, tmp_path):
    path = write(
        tmp_path,
        "district_lgd_code,thana_hi_source_B,thana_hi_source_A,thana_en_source_C,"
        "hq_place_lgd_or_census_name,hq_place_code,hq_subdistrict\n"
        "125,बहराइच,,,,,\n",
        name="stations.csv",
    )
    with pytest.raises(GeoImportError, match=r"row 2, column 'district_lgd_code'"):
        import_stations(path, "124")
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.kind == UnitKind.STATION)) == 0


# ---- the command line ------------------------------------------------------------------------


def test_the_geo_commands_import_the_shared_files_and_print_their_reports(db, runner, data_dir):
    result = runner.invoke(args=["cplan", "geo", "districts"])
    assert result.exit_code == 0, result.output
    assert "districts from up_districts.csv: 75 created" in result.output

    result = runner.invoke(args=["cplan", "geo", "subdistricts"])
    assert "350 created" in result.output

    result = runner.invoke(
        args=[
            "cplan",
            "geo",
            "places",
            "--district",
            "124",
            "--local-bodies",
            str(data_dir / "up_urban_local_bodies.csv"),
            str(data_dir / "baghpat_villages.csv"),
        ]
    )
    assert result.exit_code == 0, result.output
    assert "456 created" in result.output
    assert "row 14: flagged KHANDWARI KHADER: no LGD code" in result.output

    result = runner.invoke(
        args=[
            "cplan",
            "geo",
            "stations",
            "--district",
            "124",
            str(data_dir / "baghpat_police_stations.csv"),
        ]
    )
    assert result.exit_code == 0 and "11 created" in result.output

    result = runner.invoke(args=["cplan", "geo", "attach", "--district", "124"])
    assert result.exit_code == 0, result.output
    assert "124-BARAUT Baraut:" in result.output and "attached" in result.output
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(Place.id)).where(Place.station_id.is_not(None))) == 449
    )


def test_a_geo_command_on_a_malformed_file_exits_non_zero_and_keeps_nothing(db, runner, tmp_path):
    runner.invoke(args=["cplan", "geo", "districts"])
    path = write(
        tmp_path,
        PLACES_HEADER + "\n" + GOOD_ROW + "\n9,124,Baghpat,X,Baghpat,village,28.9,77.2,x1\n",
    )

    result = runner.invoke(args=["cplan", "geo", "places", "--district", "124", str(path)])

    assert result.exit_code == 1
    assert "places.csv, row 3, column 'lgd_code'" in result.output
    assert db.session.scalar(select(func.count(Place.id))) == 0


def test_attach_for_a_district_not_imported_exits_non_zero(runner):
    result = runner.invoke(args=["cplan", "geo", "attach", "--district", "999"])
    assert result.exit_code == 1 and "district '999' is not in the database" in result.output


def test_a_unit_code_too_long_for_its_column_is_shortened_stably_and_distinctly():
    from cplan.pipelines.geo_import import UNIT_CODE_LENGTH, unit_code

    long_one = "135-CIRCLE-PANDITDEENDAYALUPADHYAYNAGAR"
    other = "135-CIRCLE-PANDITDEENDAYALUPADHYAYNAGAR-2"
    assert len(unit_code(long_one)) == UNIT_CODE_LENGTH
    assert unit_code(long_one) == unit_code(long_one) != unit_code(other)
    assert unit_code(long_one).startswith("135-CIRCLE-PANDIT")
    assert unit_code("124-BARAUT") == "124-BARAUT"
