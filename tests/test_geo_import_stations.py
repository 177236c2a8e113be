"""Importing any UP district's police-station list: the accepted layouts, station words kept
when they belong to a place's name, HQ places found by name, curated English names, and what
``geo attach`` says about stations that cannot receive places.

``data/geo/shamli_police_stations.csv`` writes Shamli's stations (district LGD 660) as public
lists give them ("थाना भवन", "कोतवाली कैराना", "थाना गढ़ीपुख्ता"...). ``data/geo/shamli_places.csv``
is a small place fixture in the shape of the Baghpat places file: Shamli's towns with their real
Census 2011 town codes and approximate centres, and a few villages whose codes (99xxxx) are the
fixture's own.
"""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from cplan.models import Place, Unit, UnitKind
from cplan.pipelines.geo_import import (
    GeoImportError,
    attach_places_to_nearest_station,
    import_places,
    import_stations,
    station_headquarters,
)
from cplan.services import geo
from tests import geo_files
from tests.geo_files import PLACES_HEADER, place

GEO_DATA = Path(__file__).parent / "data" / "geo"
SHAMLI_STATIONS = GEO_DATA / "shamli_police_stations.csv"

# station code -> (Hindi name, natural key of the HQ place found by name, or None)
SHAMLI = {
    "660-SHAMLI": ("शामली", "census:800645"),  # "कोतवाली शामली"
    "660-ADARSH-MANDI": ("आदर्श मंडी", None),  # a locality of Shamli town, not a town or village
    "660-THANA-BHAWAN": ("थाना भवन", "census:800648"),
    "660-JHINJHANA": ("झिंझाना", "census:800641"),
    "660-UNN": ("ऊन", "census:800640"),
    "660-GARHI-PUKHTA": ("गढ़ीपुख्ता", "census:800647"),
    "660-KAIRANA": ("कैराना", "census:800642"),  # "कोतवाली कैराना"
    "660-KANDHLA": ("कांधला", "census:800643"),
    "660-BABRI": ("बाबरी", "lgd:990001"),
    "660-CHAUSANA": ("चौसाना", "lgd:990002"),
    "660-MAHILA-THANA": ("महिला थाना", None),
}


@pytest.fixture
def shamli_lgd(lgd_districts):
    """Shamli and its three sub-districts (Kairana, Shamli, Un), from the real LGD rows."""
    return lgd_districts("660")["660"]


@pytest.fixture
def shamli(shamli_lgd):
    import_places(GEO_DATA / "shamli_places.csv", "660")
    return shamli_lgd


@pytest.fixture
def shamli_report(shamli):
    return import_stations(SHAMLI_STATIONS, "660")


def write(tmp_path, text, name="stations.csv"):
    return geo_files.write(tmp_path, text, name)


def station(db, code):
    return db.session.scalar(select(Unit).where(Unit.kind == UnitKind.STATION, Unit.code == code))


def stations_by_code(db, district):
    return {s.code: s for s in db.session.scalars(geo.units_under(district, UnitKind.STATION))}


def reasons(report, row=None):
    return [note.reason for note in report.notes if row is None or note.row == row]


# ---- a realistic list of another district --------------------------------------------------


def test_the_shamli_list_as_public_lists_write_it_imports_with_each_hq_found_by_name(
    db, shamli, shamli_report
):
    stations = stations_by_code(db, shamli)
    headquarters = station_headquarters(shamli)

    assert shamli_report.created == len(stations) == 11
    assert {
        code: (s.name_hi, headquarters[s.id].natural_key if s.id in headquarters else None)
        for code, s in stations.items()
    } == SHAMLI
    assert stations["660-THANA-BHAWAN"].name_en == "Thana Bhawan"
    assert stations["660-GARHI-PUKHTA"].name_en == "Garhi Pukhta"
    assert not any(s.name_generated for s in stations.values())
    # Circles follow the HQ place's sub-district when the list gives none.
    assert (
        stations["660-KAIRANA"].parent.name_en
        == stations["660-KANDHLA"].parent.name_en
        == "Kairana circle"
    )
    assert stations["660-KAIRANA"].parent.name_hi == "कैराना सर्किल"
    assert stations["660-JHINJHANA"].parent.name_en == "Un circle"


def test_reimporting_the_shamli_list_changes_nothing(db, shamli_report):
    before = [
        (u.id, u.code, u.name_en, u.name_hi, u.aliases, u.parent_id, u.hq_place_id)
        for u in db.session.scalars(select(Unit).order_by(Unit.id))
    ]

    again = import_stations(SHAMLI_STATIONS, "660")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 11)
    assert [
        (u.id, u.code, u.name_en, u.name_hi, u.aliases, u.parent_id, u.hq_place_id)
        for u in db.session.scalars(select(Unit).order_by(Unit.id))
    ] == before


def test_stations_imported_before_their_places_are_renamed_later_not_duplicated(db, shamli_lgd):
    first = import_stations(SHAMLI_STATIONS, "660")
    bhawan = db.session.scalar(
        select(Unit).where(Unit.kind == UnitKind.STATION, Unit.name_hi == "भवन")
    )
    assert bhawan is not None  # no places yet: nothing says "थाना" belongs to the name
    assert any("import places first" in reason for reason in reasons(first))

    import_places(GEO_DATA / "shamli_places.csv", "660")
    second = import_stations(SHAMLI_STATIONS, "660")

    assert second.created == 0
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.kind == UnitKind.STATION)) == 11
    assert (bhawan.code, bhawan.name_hi) == ("660-THANA-BHAWAN", "थाना भवन")
    assert any(reason.startswith("Hindi name changed from भवन") for reason in reasons(second, 4))
    assert len(station_headquarters(shamli_lgd)) == 9


# ---- station words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, name_hi",
    [
        ("थाना भवन", "थाना भवन"),
        ("थानाभवन", "थानाभवन"),
        ("थाना थानाभवन", "थानाभवन"),
    ],
)
def test_thana_stays_when_it_is_part_of_the_towns_name(db, shamli, tmp_path, written, name_hi):
    report = import_stations(
        write(tmp_path, f"district_code,police_station\n660,{written}\n"), "660"
    )

    bhawan = station(db, "660-THANA-BHAWAN")
    assert (bhawan.name_hi, bhawan.name_en) == (name_hi, "Thana Bhawan")
    assert bhawan.hq_place.natural_key == "census:800648"
    if written == "थाना भवन":
        assert any(
            r.startswith("station word kept: थाना भवन is the name of a town")
            for r in reasons(report, 2)
        )


def test_station_words_are_stripped_from_the_start_of_a_name_only(db, shamli, tmp_path):
    path = write(
        tmp_path,
        "district_code,police_station\n"
        "660,थाना कांधला\n"  # row 2
        "660,कोतवाली कैराना\n"  # row 3
        "660,P.S. Jhinjhana\n"  # row 4
        "660,महिला थाना\n"  # row 5: the word ends the name
        "660,कोतवाली देहात\n"  # row 6: "देहात" alone names no place
        "660,Kotwali Nagar\n",
    )  # row 7
    report = import_stations(path, "660")

    stations = stations_by_code(db, shamli)
    assert {
        code: (s.name_hi, s.name_en) for code, s in stations.items() if code != "660-JHINJHANA"
    } == {
        "660-KANDHLA": ("कांधला", "Kandhla"),
        "660-KAIRANA": ("कैराना", "Kairana"),
        "660-MAHILA-THANA": ("महिला थाना", "Mahila Thana"),
        "660-KOTWALI-DEHAT": ("कोतवाली देहात", "Kotwali Dehat"),
        "660-KOTWALI-NAGAR": (stations["660-KOTWALI-NAGAR"].name_hi, "Kotwali Nagar"),
    }
    jhinjhana = stations["660-JHINJHANA"]
    assert jhinjhana.name_en == "Jhinjhana" and jhinjhana.name_generated  # Hindi transliterated
    assert jhinjhana.hq_place.natural_key == "census:800641"
    assert any("Hindi name" in r and "transliterated" in r for r in reasons(report, 4))
    assert any(r == "station word kept: देहात alone names no place" for r in reasons(report, 6))


def test_a_generic_word_left_after_a_station_word_is_never_taken_for_a_village(
    db, shamli, tmp_path
):
    import_places(
        write(
            tmp_path,
            PLACES_HEADER + "\n9,660,Shamli,NAGAR,Un,village,29.6,77.2,990201\n",
            name="places.csv",
        ),
        "660",
    )

    import_stations(write(tmp_path, "district_code,police_station\n660,कोतवाली नगर\n"), "660")

    kotwali = station(db, "660-KOTWALI-NAGAR")
    assert kotwali.name_hi == "कोतवाली नगर" and kotwali.hq_place_id is None


def test_a_station_word_written_together_with_the_name_is_part_of_it(db, shamli_lgd, tmp_path):
    # No places imported, so nothing but the spelling can tell: "थानाभवन" is one word.
    import_stations(
        write(tmp_path, "district_code,police_station\n660,थानाभवन\n660,PS-Kairana\n"), "660"
    )

    names = {s.name_hi for s in stations_by_code(db, shamli_lgd).values()}
    assert "थानाभवन" in names and "भवन" not in names
    assert station(db, "660-KAIRANA") is not None


# ---- HQ found by name ----------------------------------------------------------------------


def test_an_hq_found_by_name_is_a_town_before_a_village_of_the_same_name(db, shamli, tmp_path):
    # The fixture has the town Banat and a village BANAT (lgd:990006), as UP often has.
    report = import_stations(write(tmp_path, "district_code,thana\n660,थाना बनत\n"), "660")

    banat = station(db, "660-BANAT")
    assert banat.hq_place.natural_key == "census:800646"
    assert any(r.startswith("HQ place town Banat (census:800646") for r in reasons(report, 2))


def test_a_name_two_villages_share_is_flagged_and_not_used(db, shamli_lgd, tmp_path):
    import_places(
        write(
            tmp_path,
            PLACES_HEADER + "\n"
            "9,660,Shamli,RAMPUR,Kairana,village,29.40,77.20,990101\n"
            "9,660,Shamli,RAMPUR,Un,village,29.60,77.25,990102\n",
            name="places.csv",
        ),
        "660",
    )

    report = import_stations(write(tmp_path, "district_code,thana\n660,थाना रामपुर\n"), "660")

    rampur = station(db, "660-RAMPUR")
    assert rampur.hq_place_id is None
    [ambiguous] = [r for r in reasons(report, 2) if "matches 2 places" in r]
    assert "lgd:990101" in ambiguous and "lgd:990102" in ambiguous and "hq_place_code" in ambiguous
    assert place(db, "lgd:990101").station_id is None and place(db, "lgd:990102").station_id is None


def test_an_hq_name_column_is_matched_and_names_no_station_after_it(db, shamli, tmp_path):
    report = import_stations(
        write(tmp_path, "district_code,name_hi,hq\n660,आदर्श मंडी,Bhainswal\n"), "660"
    )

    adarsh_mandi = station(db, "660-ADARSH-MANDI")
    assert adarsh_mandi.hq_place.natural_key == "lgd:990003"
    assert adarsh_mandi.name_en == "Adarsh Mandi"  # not the HQ village's name
    assert "English name 'Adarsh Mandi' from the station-word table" in reasons(report, 2)


def test_a_place_is_the_hq_of_one_station_only(db, shamli, tmp_path):
    report = import_stations(
        write(tmp_path, "district_code,thana,hq\n660,कोतवाली शामली,\n660,आदर्श मंडी,Shamli\n"), "660"
    )

    assert station(db, "660-SHAMLI").hq_place.natural_key == "census:800645"
    assert station(db, "660-ADARSH-MANDI").hq_place_id is None
    assert any("the HQ of row 2" in r and "column 'hq'" in r for r in reasons(report, 3))


# ---- English names -------------------------------------------------------------------------


def test_english_names_come_from_curated_spellings_and_are_flagged(db, shamli_lgd, tmp_path):
    path = write(
        tmp_path,
        "district_code,thana\n"
        "660,थाना कैराना\n"  # row 2: the LGD sub-district Kairana
        "660,थाना आदर्श मंडी\n"  # row 3: the station-word table
        "660,कोतवाली देहात\n"  # row 4: the table, word by word
        "660,थाना झिंझाना\n",
    )  # row 5: nothing curated before its places
    report = import_stations(path, "660")

    names = {
        s.name_hi: (s.name_en, s.name_generated) for s in stations_by_code(db, shamli_lgd).values()
    }
    assert names["कैराना"] == ("Kairana", False)
    assert names["आदर्श मंडी"] == ("Adarsh Mandi", False)
    assert names["कोतवाली देहात"] == ("Kotwali Dehat", False)
    assert names["झिंझाना"][1] is True
    assert "English name 'Kairana' from the sub-district list (LGD)" in reasons(report, 2)
    assert "English name 'Adarsh Mandi' from the station-word table" in reasons(report, 3)
    assert any(
        r.startswith("English name") and r.endswith("transliterated") for r in reasons(report, 5)
    )


def test_an_english_name_from_the_hq_place_is_flagged(db, shamli_report):
    assert "English name 'Kandhla' from its HQ place Kandhla" in reasons(shamli_report, 9)


# ---- layouts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "district_code,name_hi,name_en,hq_code\n660,कैराना,Kairana,800642\n",
        "District LGD Code,Thana,HQ\n660,थाना कैराना,800642\n",
        "district_lgd_code,थाना,hq_place\n660,कैराना,Kairana\n",
        "\ufeffdistrict_code,Police Station,Name EN,hq_name\n660,कोतवाली कैराना,Kotwali "
        "Kairana,KAIRANA (NPP)\n",
        "district_code,police_station\r\n660,कोतवाली कैराना\r\n",
        "District Code,Name of Police Station,Tehsil\n660,थाना कैराना,Kairana\n",
    ],
    ids=["codes", "spaced-headers", "hindi-header", "hq-name", "names-only", "long-header"],
)
def test_a_simple_station_list_imports_without_renaming_columns(db, shamli, tmp_path, content):
    report = import_stations(write(tmp_path, content), "660")

    kairana = station(db, "660-KAIRANA")
    assert report.created == 1
    assert (kairana.name_hi, kairana.name_en) == ("कैराना", "Kairana")
    assert kairana.hq_place.natural_key == "census:800642"
    assert kairana.parent.name_en == "Kairana circle"


def test_columns_the_importer_does_not_know_are_listed(db, shamli, tmp_path):
    report = import_stations(
        write(tmp_path, "district_code,thana,hq_plce_code\n660,कैराना,800642\n"), "660"
    )
    assert report.notes[0].row == 1 and report.notes[0].reason == "hq_plce_code"


@pytest.mark.parametrize(
    "content, row, column, problem",
    [
        ("name_hi\nकैराना\n", 1, "district_code", "no column for the district's LGD code"),
        ("district_code,hq\n660,800642\n", 1, "name_hi", "no column for the station's name"),
        (
            "district_code,district_lgd_code,name_hi\n660,660,कैराना\n",
            1,
            "district_lgd_code",
            "gives the same thing as column 'district_code'",
        ),
        ("district_code,name_hi,thana\n660,कैराना,कैराना\n", 1, "thana", "keep one"),
        (
            "district_code,name_hi\n660,कैराना\n660,Kandhla\n",
            3,
            "name_hi",
            "not written in Devanagari",
        ),
        (
            "district_code,name_hi,name_en\n660,कैराना,कैराना\n",
            2,
            "name_en",
            "not written in Roman letters",
        ),
        ("district_code,name_hi,hq_code\n660,कैराना,80064x\n", 2, "hq_code", "is not a number"),
        (
            "district_code,name_hi\n660,कैराना\n124,बड़ौत\n",
            3,
            "district_code",
            "district 124 in a file",
        ),
        (
            "district_code,name_hi,name_en\n660,कैराना,\n660,,\n",
            3,
            "name_hi",
            "the station has no name",
        ),
        (
            "district_code,thana\n660,थाना कैराना\n660,कोतवाली कैराना\n",
            3,
            "thana",
            "also made from row 2",
        ),
    ],
    ids=[
        "no-district-column",
        "no-name-column",
        "district-twice",
        "name-twice",
        "roman-in-hindi",
        "hindi-in-english",
        "bad-hq-code",
        "other-district",
        "no-name",
        "same-station-twice",
    ],
)
def test_a_malformed_stations_file_imports_nothing_and_names_row_and_column(
    db, shamli, tmp_path, content, row, column, problem
):
    with pytest.raises(GeoImportError) as error:
        import_stations(write(tmp_path, content), "660")

    assert (error.value.row, error.value.column) == (row, column)
    assert problem in str(error.value) and f"row {row}" in str(error.value)
    assert db.session.scalar(select(func.count(Unit.id)).where(Unit.kind == UnitKind.STATION)) == 0


# ---- attach --------------------------------------------------------------------------------


def test_attach_names_the_stations_without_an_hq_and_what_fixes_it(db, shamli, shamli_report):
    report = attach_places_to_nearest_station(shamli)

    [advice] = [
        n for n in report.notes_about("flagged") if n.subject.startswith("stations without HQ")
    ]
    assert advice.subject == "stations without HQ coordinates: Adarsh Mandi (660-ADARSH-MANDI)"
    assert "`hq_place_code` column" in advice.reason
    assert "flask cplan geo stations --district 660 FILE" in advice.reason
    assert "flask cplan geo move-place" in advice.reason
    skipped = {
        n.subject: n.reason
        for n in report.notes_about("skipped")
        if n.subject.startswith("station ")
    }
    assert skipped["station Mahila Thana (660-MAHILA-THANA)"].startswith("women police station")
    assert (
        place(db, "ward:census:800645:adarsh-mandi").station.code == "660-SHAMLI"
    )  # with its town


def _rampur_only(tmp_path):
    import_places(
        write(
            tmp_path,
            PLACES_HEADER + "\n"
            "9,660,Shamli,RAMPUR,Kairana,village,29.40,77.20,990101\n"
            "9,660,Shamli,RAMPUR,Un,village,29.60,77.25,990102\n",
            name="places.csv",
        ),
        "660",
    )
    import_stations(write(tmp_path, "district_code,thana\n660,थाना रामपुर\n660,महिला थाना\n"), "660")


def _babri_without_coordinates(tmp_path):
    import_places(
        write(
            tmp_path,
            PLACES_HEADER + "\n9,660,Shamli,BABRI,Shamli,village,,,990001\n",
            name="places.csv",
        ),
        "660",
    )
    import_stations(write(tmp_path, "district_code,thana\n660,थाना बाबरी\n"), "660")


@pytest.mark.parametrize(
    "prepare, expected",
    [
        (
            lambda tmp_path: None,
            ["Shamli has no police stations", "`flask cplan geo stations --district 660 FILE`"],
        ),
        (
            lambda tmp_path: import_stations(SHAMLI_STATIONS, "660"),
            ["Shamli has no places yet", "`flask cplan geo places --district 660 FILE`"],
        ),
        (
            _rampur_only,
            ["Rampur (660-RAMPUR)", "`hq_place_code` column", "flask cplan geo stations"],
        ),
        (
            _babri_without_coordinates,
            [
                "Babri (lgd:990001)",
                "`lat` and `lng` columns",
                "`flask cplan geo places --district 660 FILE`",
            ],
        ),
    ],
    ids=["no-stations", "no-places", "no-hq", "hq-without-coordinates"],
)
def test_attach_refuses_naming_the_column_or_command_that_fixes_it(
    db, shamli_lgd, tmp_path, prepare, expected
):
    prepare(tmp_path)
    attached = select(func.count(Place.id)).where(Place.station_id.is_not(None))
    before = db.session.scalar(attached)  # HQ places, attached by the stations import

    with pytest.raises(GeoImportError) as error:
        attach_places_to_nearest_station(shamli_lgd)

    for text in expected:
        assert text in str(error.value)
    assert db.session.scalar(attached) == before


def test_the_stations_and_attach_commands_say_what_to_fix(db, runner, shamli):
    result = runner.invoke(
        args=["cplan", "geo", "stations", "--district", "660", str(SHAMLI_STATIONS)]
    )
    assert result.exit_code == 0, result.output
    assert "11 created" in result.output
    assert "row 4: flagged थाना भवन: station word kept" in result.output
    assert (
        "row 3: flagged आदर्श मंडी: no HQ place" in result.output and "column 'hq'" in result.output
    )

    result = runner.invoke(args=["cplan", "geo", "attach", "--district", "660"])
    assert result.exit_code == 0, result.output
    assert (
        "flagged stations without HQ coordinates: Adarsh Mandi (660-ADARSH-MANDI): give"
        in result.output
    )


def test_the_attach_command_refusing_exits_non_zero_with_the_fix(db, runner, shamli_lgd):
    result = runner.invoke(args=["cplan", "geo", "attach", "--district", "660"])
    assert result.exit_code == 1
    assert "flask cplan geo stations --district 660 FILE" in result.output
