"""Correcting place names: who may (a truth table), what a correction does (names, flags,
aliases, search, audit, the place's name history), the spelling rules, and the file of
corrections per district (dry run by row and column, all or nothing, the same file again)."""

import io
import json
import re
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import select

from cplan.models.audit import AuditEvent
from cplan.pipelines import place_name_import
from cplan.services import audit, place_names, search
from cplan.services.permissions import Permission, has_permission

RENAMED = place_names.RENAMED


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, login_as, state):
    """Baghpat: Baraut station (Bamnauli with a generated Hindi name, Bijrol) and a ward without
    an LGD code; Meerut: Kaili."""
    baghpat = make_district("Baghpat", code="124", name_hi="बागपत")
    baraut = make_station(baghpat, "Baraut")
    meerut = make_district("Meerut", code="169")
    sardhana = make_station(meerut, "Sardhana")
    town = make_place("BARAUT", station=baraut, kind="town", name_hi="बड़ौत", lgd_code="800123")
    world = SimpleNamespace(
        state=state,
        baghpat=baghpat,
        baraut=baraut,
        meerut=meerut,
        bamnauli=make_place(
            "BAMNOLI", station=baraut, lgd_code="119301", name_hi="बमनोली", name_generated=True
        ),
        bijrol=make_place("BIJROL", station=baraut, lgd_code="119300", name_hi="बिजरौल"),
        ward=make_place(
            "PATTI CHAUDHRAN", station=baraut, kind="ward", town_id=town.id, name_hi="पट्टी चौधरान"
        ),
        kaili=make_place("KAILI", station=sardhana, lgd_code="3001", name_hi="कैली"),
        asp=make_officer("asp", baghpat),
        sp_office=make_officer("sp_office", baghpat),
        meerut_asp=make_officer("asp", meerut),
        constable=make_officer("constable", baraut),
    )
    world.login = login_as
    db.session.commit()
    return world


def events(db, action):
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def found_ids(db, place, query):
    return set(db.session.scalars(search.matching_ids(search.PLACE, query, place.district)))


# ---- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("constable", False),
        ("station_officer", False),
        ("circle_officer", False),
        ("asp", True),
        ("sp_office", True),
        ("control_room", False),
        ("state_admin", True),
    ],
)
def test_permission_table_for_correcting_place_names(role, allowed):
    assert has_permission(role, Permission.CORRECT_PLACE_NAMES) is allowed


# (role, where the post sits, the place, HTTP status of the correction page)
CORRECTION_TABLE = [
    ("constable", "baraut", "bamnauli", 403),
    ("station_officer", "baraut", "bamnauli", 403),
    ("circle_officer", "circle", "bamnauli", 403),
    ("asp", "baghpat", "bamnauli", 200),
    ("sp_office", "baghpat", "bamnauli", 200),
    ("sp_office", "baghpat", "kaili", 404),
    ("asp", "meerut", "bamnauli", 404),
    ("control_room", "state", "bamnauli", 403),
    ("state_admin", "state", "kaili", 200),
]


@pytest.mark.parametrize(("role", "unit", "place", "status"), CORRECTION_TABLE)
def test_who_may_open_and_send_the_correction_form(
    client, db, world, make_officer, role, unit, place, status
):
    units = {
        "baraut": world.baraut,
        "circle": world.baraut.parent,
        "baghpat": world.baghpat,
        "meerut": world.meerut,
        "state": world.state,
    }
    world.login(make_officer(role, units[unit]))
    target = getattr(world, place)
    url = f"/geo/places/{target.id}/names"
    assert client.get(url).status_code == status
    response = client.post(url, data={"name_en": "Changed", "name_hi": "बदला"})
    assert response.status_code == (302 if status == 200 else status)
    db.session.refresh(target)
    assert (target.name_en == "Changed") is (status == 200)


def test_the_place_page_offers_the_correction_only_to_posts_that_may(client, world):
    world.login(world.constable)
    assert "/names" not in client.get(f"/geo/places/{world.bamnauli.id}").get_data(as_text=True)
    world.login(world.sp_office)
    page = client.get(f"/geo/places/{world.bamnauli.id}").get_data(as_text=True)
    assert f'href="/geo/places/{world.bamnauli.id}/names"' in page and "Correct the name" in page


# ---- what a correction does --------------------------------------------------------------------


def test_a_correction_sets_the_names_keeps_the_old_ones_findable_and_is_audited(client, db, world):
    world.login(world.sp_office)
    place = world.bamnauli
    response = client.post(
        f"/geo/places/{place.id}/names", data={"name_en": "Bamnauli", "name_hi": "बामनौली"}
    )
    assert response.status_code == 302 and response.location.endswith(f"/geo/places/{place.id}")
    db.session.refresh(place)
    assert (place.name_en, place.name_hi) == ("Bamnauli", "बामनौली")
    assert place.name_corrected and not place.name_generated
    assert place.aliases.split(" | ") == ["BAMNOLI", "बमनोली"]
    # Found by the new spelling and still by the old one, in either script.
    for query in ("Bamnauli", "बामनौली", "Bamnoli", "बमनोली"):
        assert place.id in found_ids(db, place, query), query
    [event] = events(db, RENAMED)
    assert (event.target_type, event.target_id) == ("places", place.id)
    assert json.loads(event.detail) == {
        "before": {"name_en": "BAMNOLI", "name_hi": "बमनोली"},
        "after": {"name_en": "Bamnauli", "name_hi": "बामनौली"},
        "generated": False,
        "via": "form",
    }
    assert event.officer_id == world.sp_office.id


def test_the_place_page_shows_the_name_history_newest_first(client, db, world):
    world.login(world.asp)
    url = f"/geo/places/{world.bijrol.id}/names"
    client.post(url, data={"name_en": "Bijraul", "name_hi": "बिजरौल"})
    client.post(url, data={"name_en": "Bijrol", "name_hi": "बिजरौल"})
    page = client.get(f"/geo/places/{world.bijrol.id}").get_data(as_text=True)
    history = page.split('id="name-history"')[1].split("</section>")[0].split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)
    assert len(rows) == 2
    assert "Bijraul" in rows[0] and "Bijrol" in rows[0].split('data-label="Names after"')[1]
    assert world.asp.name in rows[0]


def test_saving_a_generated_spelling_unchanged_confirms_it(client, db, world):
    world.login(world.asp)
    place = world.bamnauli
    form = client.get(f"/geo/places/{place.id}/names").get_data(as_text=True)
    assert "nobody has checked it yet" in form.split('id="name_hi-hint"')[1][:200]
    response = client.post(
        f"/geo/places/{place.id}/names", data={"name_en": "BAMNOLI", "name_hi": "बमनोली"}
    )
    assert response.status_code == 302
    db.session.refresh(place)
    assert not place.name_generated and place.name_corrected and place.aliases == ""
    assert (
        json.loads(events(db, RENAMED)[0].detail)["before"]
        == json.loads(events(db, RENAMED)[0].detail)["after"]
    )


def test_saving_names_that_are_already_right_changes_nothing(client, db, world):
    world.login(world.asp)
    response = client.post(
        f"/geo/places/{world.bijrol.id}/names", data={"name_en": "BIJROL", "name_hi": "बिजरौल"}
    )
    assert response.status_code == 400
    assert "These are already the place's names." in response.get_data(as_text=True).replace(
        "&#39;", "'"
    )
    assert events(db, RENAMED) == []


@pytest.mark.parametrize(
    ("name_en", "name_hi", "field", "message"),
    [
        ("बामनौली", "बामनौली", "name_en", "Write the English name in Roman letters"),
        ("Bamnauli", "Bamnauli", "name_hi", "Write the Hindi name in Devanagari."),
        ("12 - 4", "बामनौली", "name_en", "A name must contain at least one letter."),
        ("Bamnauli", "१२ ()", "name_hi", "A name must contain at least one letter."),
        ("Bamnauli;", "बामनौली", "name_en", "The English name may hold only"),
        ("B" * 101, "बामनौली", "name_en", "100 characters"),
        ("", "बामनौली", "name_en", "Enter the name in English."),
    ],
)
def test_the_form_refuses_bad_spellings_beside_their_field(
    client, db, world, name_en, name_hi, field, message
):
    world.login(world.asp)
    response = client.post(
        f"/geo/places/{world.bamnauli.id}/names", data={"name_en": name_en, "name_hi": name_hi}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = page.split(f'id="{field}-error"')[1].split("</div>")[0]
    assert message in errors.replace("&#39;", "'")
    db.session.refresh(world.bamnauli)
    assert world.bamnauli.name_en == "BAMNOLI" and events(db, RENAMED) == []


def test_spelling_rules_accept_real_names():
    assert place_names.clean_english("  Patti   (East) No. 2 ") == "Patti (East) No. 2"
    assert place_names.clean_english("Shah's Garden/Ward 4") == "Shah's Garden/Ward 4"
    assert place_names.clean_hindi("क्\u200dषेत्र  नगर - २") == "क्\u200dषेत्र नगर - २"
    assert place_names.clean_hindi("") == ""


# ---- a file of corrections per district ----------------------------------------------------------

HEADER = "lgd_code,natural_key,name_en,name_hi"


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(client, url, data: bytes, filename="names.csv", **fields):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


def names_url(world, step=""):
    return f"/geo/units/{world.baghpat.id}/place-names" + (f"/{step}" if step else "")


def test_the_dry_run_lists_every_problem_by_row_and_column_and_changes_nothing(client, db, world):
    world.login(world.sp_office)
    data = csv_bytes(
        HEADER,
        "119301,,Bamnauli,Bamnauli",  # row 2: Hindi not in Devanagari
        "3001,,Kaili Kalan,",  # row 3: a Meerut place
        ",,Nameless,",  # row 4: no identity
        "119300,,बिजरौल,",  # row 5: English in Devanagari
        "119301,,Bamnauli,बामनौली",  # row 6: the place of row 2 again
        f",{world.ward.natural_key},Patti Chaudhran,",  # row 7: fine (by key)
        "119300,test:9:NOWHERE,Bijrol,",  # row 8: unknown key
    )
    response = upload(client, names_url(world, "check"), data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    problems = re.findall(
        r'<td data-label="Row" class="num">(\d+)</td><td data-label="Column">([^<]*)</td>', page
    )
    assert problems == [
        ("2", "name_hi"),
        ("3", "lgd_code"),
        ("4", "lgd_code"),
        ("5", "name_en"),
        ("6", "lgd_code"),
        ("8", "natural_key"),
    ]
    assert "No place with LGD code 3001 in Baghpat district." in page
    assert "The same place is already on row 2 of this file." in page
    assert "Correct the names" not in page  # no commit form
    db.session.refresh(world.bamnauli)
    assert world.bamnauli.name_en == "BAMNOLI" and events(db, RENAMED) == []


def test_the_commit_corrects_every_changed_row_and_audits_each_place_and_the_file(
    client, db, world
):
    world.login(world.sp_office)
    data = csv_bytes(
        HEADER,
        "119301,,Bamnauli,बामनौली",
        "119300,,BIJROL,बिजरौल",  # unchanged
        f",{world.ward.natural_key},Patti Chaudhran,",  # English only
    )
    check = upload(client, names_url(world, "check"), data).get_data(as_text=True)
    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]{64})"', check).group(1)
    assert "Correct 2 places" in check
    response = upload(client, names_url(world, "commit"), data, sha256=sha)
    assert response.status_code == 302
    db.session.refresh(world.bamnauli)
    db.session.refresh(world.ward)
    assert (world.bamnauli.name_en, world.bamnauli.name_hi, world.bamnauli.name_generated) == (
        "Bamnauli",
        "बामनौली",
        False,
    )
    assert (world.ward.name_en, world.ward.name_hi, world.ward.name_corrected) == (
        "Patti Chaudhran",
        "पट्टी चौधरान",
        True,
    )
    renamed = events(db, RENAMED)
    assert sorted(event.target_id for event in renamed) == sorted(
        [world.bamnauli.id, world.ward.id]
    )
    assert {json.loads(event.detail)["via"] for event in renamed} == {"file"}
    assert {event.unit_path for event in renamed} == {
        world.baraut.path
    }  # filed under each place's station
    assert audit.verify_chain().ok  # written as one append, the chain is intact
    [summary] = events(db, place_name_import.IMPORTED)
    detail = json.loads(summary.detail)
    assert (detail["rows"], detail["corrected"], detail["unchanged"]) == (3, 2, 1)
    assert summary.unit_path == world.baghpat.path
    assert world.bamnauli.id in found_ids(db, world.bamnauli, "Bamnoli")


def test_a_file_row_changing_only_the_english_name_keeps_a_generated_hindi_marked(
    client, db, world
):
    principal = world.login(world.asp)
    report = place_name_import.commit(
        principal, world.baghpat, "n.csv", csv_bytes(HEADER, "119301,,Bamnauli,बमनोली")
    )
    assert report.committed and report.corrected == 1
    db.session.refresh(world.bamnauli)
    assert (
        world.bamnauli.name_en == "Bamnauli"
        and world.bamnauli.name_generated
        and world.bamnauli.name_corrected
    )


def test_one_bad_row_keeps_every_name_as_it_was(client, db, world):
    world.login(world.sp_office)
    data = csv_bytes(HEADER, "119301,,Bamnauli,बामनौली", "119300,,Bijrol!,")
    check = upload(client, names_url(world, "check"), data).get_data(as_text=True)
    assert 'name="sha256"' not in check
    # Committing anyway (the form sent by hand) corrects nothing and answers 409.
    sha = place_name_import.roster_import.file_sha256(data)
    response = upload(client, names_url(world, "commit"), data, sha256=sha)
    assert response.status_code == 409
    db.session.refresh(world.bamnauli)
    assert world.bamnauli.name_en == "BAMNOLI"
    assert events(db, RENAMED) == [] and events(db, place_name_import.IMPORTED) == []


def test_a_different_file_at_the_commit_is_refused(client, db, world):
    world.login(world.sp_office)
    checked = csv_bytes(HEADER, "119301,,Bamnauli,बामनौली")
    other = csv_bytes(HEADER, "119301,,Bamnauli Khurd,बामनौली खुर्द")
    check = upload(client, names_url(world, "check"), checked).get_data(as_text=True)
    sha = re.search(r'name="sha256" type="hidden" value="([0-9a-f]{64})"', check).group(1)
    response = upload(client, names_url(world, "commit"), other, sha256=sha)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "This is not the file you checked." in page
    db.session.refresh(world.bamnauli)
    assert world.bamnauli.name_en == "BAMNOLI" and events(db, RENAMED) == []


def test_a_file_over_the_limits_is_refused_whole(client, db, world, monkeypatch):
    principal = world.login(world.sp_office)
    monkeypatch.setattr(place_name_import, "MAX_ROWS", 2)
    rows = csv_bytes(HEADER, "119301,,A,", "119300,,B,", f",{world.ward.natural_key},C,")
    with pytest.raises(place_name_import.NamesFileError) as error:
        place_name_import.dry_run(principal, world.baghpat, "n.csv", rows)
    assert "more than 2 rows" in str(error.value.message)
    monkeypatch.setattr(place_name_import, "MAX_FILE_BYTES", 10)
    response = upload(client, names_url(world, "check"), rows)
    assert response.status_code == 400 and "larger than" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "headers"),
    [
        (
            "en",
            [
                "lgd_code",
                "natural_key",
                "kind",
                "police_station",
                "name_en",
                "name_hi",
                "hindi_generated",
            ],
        ),
        (
            "hi",
            [
                "एलजीडी कोड",
                "स्थान कुंजी",
                "प्रकार",
                "थाना",
                "अंग्रेज़ी नाम",
                "हिंदी नाम",
                "हिंदी नाम कंप्यूटर से",
            ],
        ),
    ],
)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_districts_list_downloads_and_uploads_back_unchanged(
    client, db, world, language, headers, file_format
):
    principal = world.login(world.sp_office)
    response = client.get(names_url(world, f"{language}.{file_format}"))
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith(
        "attachment;"
    )
    if file_format == "csv":
        lines = response.data.removeprefix(b"\xef\xbb\xbf").decode("utf-8").splitlines()
        rows = [line.split(",") for line in lines]
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
        rows = [[cell.value or "" for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == headers
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"800123", "119301", "119300", ""}  # Baghpat's places only
    assert by_code["119301"][4:] == ["BAMNOLI", "बमनोली", "हाँ" if language == "hi" else "yes"]
    report = place_name_import.dry_run(
        principal, world.baghpat, f"list.{file_format}", response.data
    )
    assert report.ok and not report.ready and report.unchanged == 4 and not report.ignored_columns


def test_station_posts_and_other_districts_cannot_use_the_file(client, world):
    world.login(world.constable)
    assert client.get(names_url(world)).status_code == 403
    world.login(world.meerut_asp)
    assert client.get(names_url(world)).status_code == 404
    assert client.get(names_url(world, "en.csv")).status_code == 404
    assert (
        upload(client, names_url(world, "check"), csv_bytes(HEADER, "119301,,X,")).status_code
        == 404
    )
    world.login(world.asp)
    assert (
        client.get(f"/geo/units/{world.baraut.id}/place-names").status_code == 404
    )  # not a district
    page = client.get(f"/geo/units/{world.baghpat.id}").get_data(as_text=True)
    assert names_url(world) in page
