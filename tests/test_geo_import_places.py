"""Importing any UP district's places: a real file of another district (Meerut), LGD's own
downloads, and one small fixture per rule (unnamed wards, census towns, names, coordinates,
names corrected by hand, file limits)."""

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cplan.data import data_dir as reference_data_dir
from cplan.models import Place, PlaceKind
from cplan.pipelines.geo_import import (
    MAX_FILE_BYTES,
    MAX_FILE_ROWS,
    GeoImportError,
    attach_places_to_nearest_station,
    clean_name,
    import_places,
    import_stations,
    is_unnamed_ward,
)
from cplan.services.transliteration import search_key
from tests.geo_files import PLACES_HEADER, notes_for_row, place, write

MEERUT_FILE = Path(__file__).parent / "data" / "geo" / "meerut_places.csv"
LGD_VILLAGE_HEADER = (
    "S.No.,State Code,State Name (In English),District Code,District Name (In English),"
    "Sub-District Code,Sub-District Name (In English),Village Code,Village Version,"
    "Village Name (In English),Village Name (In Local),Village Category,Village Status,"
    "Census 2001 Code,Census 2011 Code"
)


@pytest.fixture
def districts(lgd_districts):
    """The state with Baghpat (124) and Meerut (169) and their sub-districts, from the LGD lists."""
    found = lgd_districts("124", "169")
    return {"baghpat": found["124"], "meerut": found["169"]}


@pytest.fixture
def local_bodies():
    return reference_data_dir() / "up_urban_local_bodies.csv"


@pytest.fixture
def meerut_report(districts, local_bodies):
    return import_places(MEERUT_FILE, "169", local_bodies=local_bodies)


def places_file(tmp_path, *rows, district="124,Baghpat", name="places.csv"):
    return write(
        tmp_path, PLACES_HEADER + "\n" + "".join(f"9,{district},{row}\n" for row in rows), name
    )


# ---- a real file of another district: Meerut -------------------------------------------------


def test_every_row_of_meerut_s_real_file_is_accounted_for(db, meerut_report):
    with open(MEERUT_FILE, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))

    assert sorted(meerut_report.row_keys) == list(range(2, len(rows) + 2))
    assert set(meerut_report.row_keys.values()) == set(
        db.session.scalars(select(Place.natural_key))
    )
    by_kind = dict(
        db.session.execute(select(Place.kind, func.count(Place.id)).group_by(Place.kind)).all()
    )
    # 700 coded villages + 15 uncoded - 13 census-town rows; 17 towns + 3 census towns of their
    # own; 268 ward rows + 12 localities - 6 listed under two or more towns at one point - 2
    # towns listed again as their own locality.
    assert by_kind == {PlaceKind.VILLAGE: 702, PlaceKind.TOWN: 20, PlaceKind.WARD: 272}
    assert meerut_report.created == sum(by_kind.values()) == 994


def test_meerut_s_ninety_unnamed_wards_stay_ninety_places(db, meerut_report):
    rows = [number for number, key in meerut_report.row_keys.items() if ":m-ward@" in key]
    wards = db.session.scalars(
        select(Place).where(Place.natural_key.like("ward:town:169:meerut-city:m-ward@%"))
    ).all()

    assert len(rows) == len({meerut_report.row_keys[number] for number in rows}) == len(wards) == 90
    assert sorted(w.name_en for w in wards) == sorted(f"M Ward {n}" for n in range(1, 91))
    assert {w.town.name_en for w in wards} == {"Meerut City"}
    assert all(w.aliases == "M_Ward | M Ward" and w.latitude is not None for w in wards)
    # Numbered north to south, so the numbers do not depend on the file's order.
    by_number = sorted(wards, key=lambda w: int(w.name_en.split()[-1]))
    assert [w.latitude for w in by_number] == sorted((w.latitude for w in wards), reverse=True)
    [note] = [n for n in notes_for_row(meerut_report, 863) if "lie apart" in n.reason]
    assert "90 unnamed wards called 'M Ward' in Meerut City lie apart" in note.reason


def test_meerut_s_census_towns_merge_with_towns_of_their_name_only(db, meerut_report):
    # KITHOR KHAS (800715) is LGD's Kithaur: one town with Kithore and its wards.
    kithore = place(db, "census:800715")
    assert (kithore.name_en, kithore.kind) == ("Kithore", PlaceKind.TOWN)
    assert db.session.scalar(select(func.count(Place.id)).where(Place.town_id == kithore.id)) == 15
    # PHALAUDA (800710) lies 0.5 km from the town the file calls Phalawda: a different name,
    # so two places, and the staff are told.
    phalauda, phalawda = place(db, "census:800710"), place(db, "town:169:phalawda")
    assert phalauda.id != phalawda.id
    [note] = notes_for_row(meerut_report, 461, "flagged")
    assert "the nearest town, Phalawda (row 764), is 0.5 km away" in note.reason
    # Meerut's corporation and cantonment are both "Meerut" in LGD: told apart by their type.
    assert place(db, "census:800716").name_en == "Meerut (Municipal Corporation)"
    assert place(db, "census:800717").name_en == "Meerut (Municipal Council)"
    # KARNAWAL merged by name; the town's point was Sardhana's, so the census row's is used.
    karnawal = place(db, "census:800706")
    assert (karnawal.latitude, karnawal.longitude) == (29.103534, 77.518572)


def test_without_official_names_a_census_town_4_km_from_a_town_stays_apart(db, districts):
    report = import_places(MEERUT_FILE, "169")

    kaseru = place(db, "census:800717")
    assert (kaseru.name_en, kaseru.kind) == ("Kaseru Baksar", PlaceKind.TOWN)
    assert db.session.scalar(select(func.count(Place.id)).where(Place.town_id == kaseru.id)) == 0
    [note] = notes_for_row(report, 268, "flagged")
    assert "the nearest town, Meerut Cantt. (row 956), is 4.4 km away" in note.reason
    assert "kept as a separate town" in note.reason


def test_meerut_s_names_with_stray_characters_are_searchable_and_keep_the_file_s_spelling(
    db, meerut_report
):
    for key, name_en, alias in [
        ("lgd:119089", "Mirpur Jakhera", "M\\RPUR JAKHERA"),
        ("lgd:119148", "Mahiuddinapur Lalsana", "MAHIUDD\u00a6NAPUR LALSANA"),
        ("lgd:118785", "Nagli Khadar", "NAGL;I KHADAR"),
        ("census:800716", "Meerut (Municipal Corporation)", "MUNICIPAL AREA)"),
    ]:
        cleaned = place(db, key)
        assert cleaned.name_en == name_en
        assert alias in cleaned.aliases.split(" | ")
        assert search_key(name_en.split(" (")[0]) in cleaned.search_key
    assert place(db, "ward:census:800711:basi-2").name_en == "Basi 2"
    assert any("number set apart" in n.reason for n in notes_for_row(meerut_report, 780))
    assert "'|' or '\\' between letters read as I" in notes_for_row(meerut_report, 272)[0].reason


def test_a_town_listed_again_as_its_own_locality_is_one_place(db, meerut_report):
    assert meerut_report.row_keys[762] == meerut_report.row_keys[763] == "town:169:lawar"
    assert "the town itself" in notes_for_row(meerut_report, 763, "merged")[0].reason


def test_meerut_s_real_coordinates_all_lie_in_the_district(db, meerut_report):
    assert not [
        n for n in meerut_report.notes if "lie outside" in n.reason or "swapped" in n.reason
    ]
    assert db.session.scalar(select(func.count(Place.id)).where(Place.latitude.is_(None))) == 0


def test_a_second_import_of_meerut_s_file_changes_nothing(db, meerut_report, local_bodies):
    again = import_places(MEERUT_FILE, "169", local_bodies=local_bodies)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 994)


def test_wrong_coordinates_in_meerut_s_file_are_flagged_and_not_stored(db, districts, tmp_path):
    path = tmp_path / "meerut.csv"
    shutil.copy(MEERUT_FILE, path)
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "DUNGRAWALI,Meerut,village,28.93826,77.639093",  # Gorakhpur's point
        "DUNGRAWALI,Meerut,village,26.76,83.37",
    )
    text = text.replace(
        "GAONRI,Meerut,village,28.942388,77.821078", "GAONRI,Meerut,village,77.821078,28.942388"
    )
    text = text.replace(
        "SOBHAPUR,Meerut,village,29.003422,77.656193", "SOBHAPUR,Meerut,village,12.97,77.59"
    )
    path.write_text(text, encoding="utf-8")

    report = import_places(path, "169")

    for row, key, said, reason in [
        (2, "lgd:941802", "26.76, 83.37", "lie outside Meerut"),
        (3, "lgd:119179", "77.821078, 28.942388", "have latitude and longitude swapped"),
        (4, "lgd:941832", "12.97, 77.59", "lie outside Uttar Pradesh"),
    ]:
        village = place(db, key)
        assert (village.latitude, village.longitude) == (None, None)
        assert f"the file's coordinates {said} {reason}" in village.import_note
        [note] = notes_for_row(report, row, "flagged")
        assert note.reason.startswith(f"coordinates {said} {reason}")


# ---- LGD's own downloads ---------------------------------------------------------------------


def lgd_village_file(tmp_path, *rows, delimiter=",", title=True, name="villages.csv"):
    lines = (["All Villages of a District : BAGHPAT (Uttar Pradesh)"] if title else []) + [
        LGD_VILLAGE_HEADER.replace(",", delimiter)
    ]
    lines += [delimiter.join(row) for row in rows]
    return write(tmp_path, "\ufeff" + "\r\n".join(lines) + "\r\n", name)


def lgd_village(
    number, code, name_en, name_hi, status="Inhabitant", district="124", sub=("736", "Baghpat")
):
    return (
        str(number),
        "9",
        "Uttar Pradesh",
        district,
        "Baghpat",
        *sub,
        code,
        "1",
        name_en,
        name_hi,
        "Rural",
        status,
        "",
        "",
    )


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_an_lgd_village_list_gives_official_hindi_names_and_adds_missing_villages(
    db, districts, tmp_path, delimiter
):
    import_places(
        places_file(tmp_path, "SURAJPUR MENWA,Baghpat,village,28.94194,77.275868,119437"), "124"
    )
    assert place(db, "lgd:119437").name_generated

    path = lgd_village_file(
        tmp_path,
        lgd_village(1, "119437", "SURAJPUR MENWA", "सूरजपुर मैनवा"),
        lgd_village(2, "119999", "NAYA GAON", "नया गांव", status="Un-Inhabitant"),
        delimiter=delimiter,
    )
    report = import_places(path, "124")

    surajpur, naya = place(db, "lgd:119437"), place(db, "lgd:119999")
    assert (report.created, report.updated, report.row_keys) == (
        1,
        1,
        {3: "lgd:119437", 4: "lgd:119999"},
    )
    assert (surajpur.name_en, surajpur.name_hi, surajpur.name_generated) == (
        "Surajpur Menwa",
        "सूरजपुर मैनवा",
        False,
    )
    assert surajpur.latitude == 28.94194  # the list has no coordinates; the file's stay
    assert (naya.name_en, naya.name_hi, naya.latitude, naya.uninhabited) == (
        "Naya Gaon",
        "नया गांव",
        None,
        True,
    )
    assert naya.subdistrict.name_en == "Baghpat"
    assert "without coordinates" in notes_for_row(report, 4)[0].reason

    again = import_places(path, "124")
    assert (again.created, again.updated) == (0, 0)
    # The places file again: the official Hindi name stays.
    csv_again = import_places(
        places_file(
            tmp_path, "SURAJPUR MENWA,Baghpat,village,28.94194,77.275868,119437", name="again.csv"
        ),
        "124",
    )
    assert (csv_again.created, csv_again.updated, csv_again.unchanged) == (0, 0, 1)
    assert place(db, "lgd:119437").name_hi == "सूरजपुर मैनवा"


def test_an_lgd_village_row_of_another_district_is_refused_naming_row_and_column(
    db, districts, tmp_path
):
    path = lgd_village_file(
        tmp_path,
        lgd_village(1, "119437", "SURAJPUR MENWA", ""),
        lgd_village(2, "119100", "LOHARRA", "", district="169"),
    )
    with pytest.raises(GeoImportError) as error:
        import_places(path, "124")
    assert (error.value.row, error.value.column) == (4, "District Code")
    assert db.session.scalar(select(func.count(Place.id))) == 0


def test_an_lgd_local_body_list_names_the_district_s_towns(db, districts, tmp_path):
    import_places(
        places_file(
            tmp_path,
            "TIKRI,Baraut,village,29.227516,77.351501,800721",
            "Tikri,Tikri,city,29.229569,77.353643,",
        ),
        "124",
    )
    path = write(
        tmp_path,
        "S.No.,Local Body Code,Local Body Version,Local Body Name,Local Body Name (In Local),"
        "Localbody Type Code,Census 2011 Code,State Code,State Name\n"
        "1,248970,1,Tikri,टीकरी,7,800721,9,UTTAR PRADESH\n"
        "2,248888,2,Shamli,,5,800645,9,UTTAR PRADESH\n",
        "local_bodies.csv",
    )

    report = import_places(path, "124")

    tikri = place(db, "census:800721")
    assert (tikri.name_en, tikri.name_hi, tikri.name_generated) == ("Tikri", "टीकरी", False)
    assert (report.updated, report.row_keys) == (1, {2: "census:800721"})
    [skipped] = notes_for_row(report, 3, "skipped")
    assert "no town of Baghpat has census code 800645" in skipped.reason
    assert import_places(path, "124").updated == 0


def test_an_lgd_ward_list_names_a_town_s_wards_and_adds_the_missing_ones(db, districts, tmp_path):
    import_places(
        places_file(
            tmp_path,
            "TIKRI,Baraut,village,29.227516,77.351501,800721",
            "Tikri,Tikri,city,29.229569,77.353643,",
            "Dabra West,Tikri,ward,29.232819,77.357225,",
        ),
        "124",
    )
    path = write(
        tmp_path,
        "S.No.,Local Body Code,Local Body Name,Ward Code,Ward Number,Ward Name (In English),"
        "Ward Name (In Local),State Code,State Name\n"
        "1,248970,Tikri,300001,4,Dabra West,डाबरा पश्चिम,9,UTTAR PRADESH\n"
        "2,248970,Tikri,300002,5,,,9,UTTAR PRADESH\n"
        "3,248888,Shamli,300003,1,Ward No. 1,,9,UTTAR PRADESH\n",
        "wards.csv",
    )

    report = import_places(path, "124")

    dabra, ward_5 = (
        place(db, "ward:census:800721:dabra-west"),
        place(db, "ward:census:800721:lgd-300002"),
    )
    assert (dabra.name_hi, dabra.name_generated) == ("डाबरा पश्चिम", False)
    assert "Ward 4" in dabra.aliases
    assert (ward_5.name_en, ward_5.town.name_en, ward_5.latitude) == ("Ward 5", "Tikri", None)
    assert (report.created, report.updated) == (1, 1)
    assert "not one town of Baghpat" in notes_for_row(report, 4, "skipped")[0].reason
    assert (import_places(path, "124").created, import_places(path, "124").updated) == (0, 0)


def test_a_header_of_no_known_layout_names_the_missing_column_and_the_layouts(
    db, districts, tmp_path
):
    with pytest.raises(GeoImportError) as error:
        import_places(write(tmp_path, "Village Code,Name\n1,X\n"), "124")
    assert error.value.row == 1
    assert "LGD village list" in str(error.value) and "LGD ward list" in str(error.value)


# ---- one fixture per rule --------------------------------------------------------------------


def test_unnamed_wards_at_distinct_points_stay_distinct_and_repeated_rows_merge(
    db, districts, tmp_path
):
    report = import_places(
        places_file(
            tmp_path,
            "Newtown,Newtown,city,29.10,77.26,",
            "M_Ward,Newtown,ward,29.101,77.261,",  # row 3
            "M_Ward,Newtown,ward,29.105,77.265,",  # row 4: 0.6 km away, another ward
            "M_Ward,Newtown,ward,29.101,77.2612,",  # row 5: 20 m from row 3, the same ward twice
            "Ward 12,Newtown,ward,29.095,77.255,",  # row 6
            "Ward 12,Newtown,ward,29.090,77.250,",  # row 7: another "Ward 12", 0.7 km away
            ",Newtown,ward,29.108,77.268,",  # row 8: no name at all
            "Gandhi Nagar,Newtown,ward,29.1040,77.2640,",  # row 9
            # row 10: 0.2 km from row 9, the same mohalla drawn twice
            "Gandhi Nagar,Newtown,ward,29.1045,77.2660,",
            "Shiv Colony,Newtown,ward,29.1000,77.2500,",  # row 11
            # row 12: 3.6 km from row 11, another place of that name
            "Shiv Colony,Newtown,ward,29.1200,77.2800,",
        ),
        "124",
    )

    keys = report.row_keys
    assert keys[3] == keys[5] != keys[4]
    assert keys[9] == keys[10] and keys[6] != keys[7] and keys[11] != keys[12]
    wards = {
        w.natural_key: w
        for w in db.session.scalars(select(Place).where(Place.kind == PlaceKind.WARD))
    }
    assert len(wards) == 8
    assert {wards[keys[n]].name_en for n in (3, 4)} == {"M Ward 1", "M Ward 2"}
    assert wards[keys[4]].name_en == "M Ward 1"  # the northern one
    assert {wards[keys[n]].name_en for n in (6, 7)} == {"Ward 12 (1)", "Ward 12 (2)"}
    assert wards[keys[8]].name_en == "Ward" and keys[8] == "ward:town:124:newtown:ward"
    assert keys[9] == "ward:town:124:newtown:gandhi-nagar"
    assert keys[4] == "ward:town:124:newtown:m-ward@29.1050,77.2650"
    assert any(
        "same point" in n.reason or "nearly the same point" in n.reason
        for n in notes_for_row(report, 5)
    )
    assert "one of 2 places called 'Shiv Colony'" in wards[keys[11]].import_note


@pytest.mark.parametrize(
    "name, unnamed",
    [
        ("M_Ward", True),
        ("Ward No.", True),
        ("Ward 12", True),
        ("", True),
        ("W-3", True),
        ("Gandhi Nagar", False),
        ("01 Area", False),
        ("Ward Bazar", False),
    ],
)
def test_a_ward_name_that_only_says_ward_is_unnamed(name, unnamed):
    assert is_unnamed_ward(clean_name(name)[0]) is unnamed


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("M\\RPUR JAKHERA", "MIRPUR JAKHERA"),
        ("MAHIUDD|NAPUR LALSANA", "MAHIUDDINAPUR LALSANA"),
        ("NAGL;I KHADAR", "NAGLI KHADAR"),
        ("RAM  NAGAR", "RAM NAGAR"),
        ('"SHIV PURI"', "SHIV PURI"),
        ("Basi2", "Basi 2"),
        ("3Block", "3 Block"),
        ("2nd Street", "2nd Street"),
        ("Sadakwala- 1", "Sadakwala 1"),
        ("MUNICIPAL AREA)", "MUNICIPAL AREA"),
        ("Agarwal Mandi (Tatiri", "Agarwal Mandi (Tatiri)"),
        ("KHANPUR (TAIBA MAZRA)", "KHANPUR (TAIBA MAZRA)"),
    ],
)
def test_names_are_cleaned_to_a_searchable_form(raw, cleaned):
    name, repairs = clean_name(raw)
    assert name == cleaned
    assert bool(repairs) is (raw != cleaned)


def test_a_cleaned_name_is_reported_and_the_file_s_spelling_kept(db, districts, tmp_path):
    report = import_places(
        places_file(tmp_path, "RAM  NAGAR;,Baghpat,village,28.95,77.27,119901"), "124"
    )
    village = place(db, "lgd:119901")
    assert village.name_en == "Ram Nagar"
    assert "RAM  NAGAR;" not in village.aliases  # stored tidy, but with the stray mark
    assert "RAM NAGAR;" in village.aliases.split(" | ")
    [note] = notes_for_row(report, 2)
    assert "name cleaned to 'RAM NAGAR'" in note.reason and "stray ; removed" in note.reason


def test_a_census_town_merges_with_a_town_of_its_name_and_never_by_nearness_alone(
    db, districts, tmp_path
):
    report = import_places(
        places_file(
            tmp_path,
            "NEWTOWN,Baraut,village,29.101,77.262,800991",  # same name, 0.1 km
            "OLDVILLE,Baraut,village,29.10,77.27,800992",  # another name, 1 km from Newtown
            "Newtown,Newtown,city,29.10,77.26,",
        ),
        "124",
    )

    newtown, oldville = place(db, "census:800991"), place(db, "census:800992")
    assert (newtown.name_en, report.row_keys[4]) == ("Newtown", "census:800991")
    assert (oldville.name_en, oldville.kind) == ("Oldville", PlaceKind.TOWN)
    assert notes_for_row(report, 2, "merged")
    [note] = notes_for_row(report, 3, "flagged")
    assert "the nearest town, Newtown (row 4), is 1.0 km away, but a different name" in note.reason


def test_coordinates_outside_the_district_or_swapped_are_not_used_for_attachment(
    db, districts, tmp_path
):
    rows = [
        f"VILLAGE {n},Baraut,village,{29.0 + n / 100},{77.25 + n / 100},11990{n}" for n in range(6)
    ]
    import_places(
        places_file(
            tmp_path,
            *rows,
            "FARGAON,Baraut,village,26.76,83.37,119910",  # Gorakhpur's point
            "ULTAGAON,Baraut,village,77.29,29.05,119911",  # swapped
            "ZEROGAON,Baraut,village,0,0,119912",
        ),
        "124",
    )  # outside UP
    import_stations(
        write(
            tmp_path,
            "district_lgd_code,thana_hi_source_B,thana_hi_source_A,thana_en_source_C,"
            "hq_place_lgd_or_census_name,hq_place_code,hq_subdistrict\n"
            "124,बड़ौत,,Baraut,,119900,Baraut\n",
            name="stations.csv",
        ),
        "124",
    )

    report = attach_places_to_nearest_station(districts["baghpat"])

    for code, said in [
        ("119910", "26.76, 83.37"),
        ("119911", "77.29, 29.05"),
        ("119912", "0.0, 0.0"),
    ]:
        village = place(db, f"lgd:{code}")
        assert (village.latitude, village.station_id) == (None, None)
        assert said in village.import_note
    assert sum("no coordinates" in n.reason for n in report.notes) == 3
    assert place(db, "lgd:119905").station_id is not None


def test_a_name_corrected_by_hand_survives_a_re_import(db, districts, tmp_path):
    path = places_file(tmp_path, "SURAJPUR MENWA,Baghpat,village,28.94194,77.275868,119437")
    import_places(path, "124")
    village = place(db, "lgd:119437")
    village.name_en, village.name_hi, village.name_generated = (
        "Surajpur Mainwa",
        "सूरजपुर मैनवा",
        False,
    )
    village.name_corrected = True
    db.session.flush()

    first = import_places(path, "124")
    lgd = import_places(
        lgd_village_file(tmp_path, lgd_village(1, "119437", "SURAJPUR MENWA", "सूरजपुर मेनवा")), "124"
    )
    again = import_places(path, "124")

    village = place(db, "lgd:119437")
    assert (village.name_en, village.name_hi, village.name_corrected) == (
        "Surajpur Mainwa",
        "सूरजपुर मैनवा",
        True,
    )
    assert set(village.aliases.split(" | ")) == {"Surajpur Menwa", "SURAJPUR MENWA", "सूरजपुर मेनवा"}
    assert search_key("Surajpur Menwa") in village.search_key
    assert (first.updated, lgd.updated, again.updated, again.unchanged) == (1, 1, 0, 1)
    assert "name corrected by hand kept (Surajpur Mainwa" in notes_for_row(first, 2)[0].reason
    assert "LGD's सूरजपुर मेनवा is kept as an alias" in notes_for_row(lgd, 3)[0].reason


# ---- file limits -----------------------------------------------------------------------------


def test_a_file_with_more_rows_than_the_limit_is_refused_before_its_rows_are_read(
    db, districts, tmp_path
):
    rows = "".join(
        f"9,124,Baghpat,V{n},Baghpat,village,29.0,77.2,{n}\n" for n in range(MAX_FILE_ROWS + 1)
    )
    path = write(tmp_path, PLACES_HEADER + "\n" + rows + "not,a,valid,row\n")
    with pytest.raises(
        GeoImportError, match="10,002 rows after its header, over the limit of 10,000 rows"
    ):
        import_places(path, "124")
    assert db.session.scalar(select(func.count(Place.id))) == 0


def test_a_file_bigger_than_the_limit_is_refused_before_it_is_read(db, districts, tmp_path):
    path = write(tmp_path, PLACES_HEADER + "\n" + "x" * MAX_FILE_BYTES)
    with pytest.raises(GeoImportError, match="over the limit of 5 MB"):
        import_places(path, "124")
