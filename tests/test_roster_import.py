"""Bulk import of contacts: templates, the dry run, the all-or-nothing commit, idempotency,
every bad-file case, spreadsheet-mangled numbers and scope."""

import io
from datetime import date
from types import SimpleNamespace

import openpyxl
import pytest
from sqlalchemy import func, select

from cplan.models.audit import AuditEvent
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.pipelines import roster_import
from cplan.pipelines.roster_import import RosterFileError

HEADER = "place_lgd_code,name,mobile,category,consent_date"
DATA_DIR = __import__("pathlib").Path(__file__).parent / "data" / "roster"


@pytest.fixture(autouse=True)
def request_context(app):
    """Translated messages (lazy strings) are read as a request would read them (English)."""
    with app.test_request_context():
        yield


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer, login_as):
    """Baghpat with stations Baraut (places 1001, 1002) and Khekada (2001); Meerut (3001)."""
    baghpat = make_district("Baghpat", code="124")
    baraut = make_station(baghpat, "Baraut")
    khekada = make_station(baghpat, "Khekada")
    meerut = make_district("Meerut", code="169")
    meerut_station = make_station(meerut, "Sardhana")
    world = SimpleNamespace(
        baghpat=baghpat,
        baraut=baraut,
        khekada=khekada,
        meerut=meerut,
        bijwara=make_place("Bijwara", station=baraut, lgd_code="1001", name_hi="बिजवाड़ा"),
        kirthal=make_place("Kirthal", station=baraut, lgd_code="1002"),
        khekada_village=make_place("Pali", station=khekada, lgd_code="2001"),
        meerut_village=make_place("Kaili", station=meerut_station, lgd_code="3001"),
        constable=make_officer("constable", baraut),
        asp=make_officer("asp", baghpat),
        circle_officer=make_officer("circle_officer", baraut.parent),
    )
    world.login = login_as
    db.session.commit()
    return world


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if bom else data


def good_file() -> bytes:
    return csv_bytes(
        HEADER,
        "1001,राम किशोर शर्मा,98765 43210,pradhan,2025-03-01",
        "1001,Sunita Devi,098765-43211,Teacher,01-03-2025",
        "1002,Mohd. Irfan,+91 9876543212,पूर्व सैनिक,01/03/2025",
    )


def contact_count(db) -> int:
    return db.session.scalar(select(func.count(Contact.id)))


def upload(client, endpoint, data: bytes, filename="contacts.csv", **fields):
    return client.post(
        endpoint,
        data={"file": (io.BytesIO(data), filename), **fields},
        content_type="multipart/form-data",
    )


# ---- templates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "language, first_header", [("en", "place_lgd_code"), ("hi", "स्थान एलजीडी कोड")]
)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_template_downloads_in_both_formats_and_languages(
    client, world, language, first_header, file_format
):
    world.login(world.constable)
    response = client.get(f"/roster-files/template/{language}.{file_format}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert f"template-{language}.{file_format}" in response.headers["Content-Disposition"]
    if file_format == "csv":
        assert response.data.startswith(b"\xef\xbb\xbf")
        header = response.data[3:].decode("utf-8").splitlines()[0].split(",")
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).worksheets[0]
        header = [cell.value for cell in sheet[1]]
    assert header[0] == first_header and len(header) == len(roster_import.COLUMNS)


def test_the_template_itself_reads_back_as_a_file_with_a_header_and_no_rows():
    _name, _type, content = roster_import.template_file("xlsx", "hi")
    with pytest.raises(RosterFileError) as error:
        roster_import.read_table("t.xlsx", content)
    assert "no rows" in str(error.value.message)


# ---- the dry run -----------------------------------------------------------------------------


def test_the_dry_run_reports_each_problem_by_row_and_column_and_writes_nothing(client, world, db):
    principal = world.login(world.constable)
    data = csv_bytes(
        HEADER + ",gender,consent_language",
        "1001,राम किशोर,12345,pradhan,2025-03-01,,",  # row 2: bad number
        "9999,Sunita Devi,9876543211,teacher,2025-03-01,,",  # row 3: unknown place
        "1001,,9876543212,teacher,2025-03-01,,",  # row 4: missing name
        "1001,Ravi Kumar,9876543213,astronaut,2025-03-01,,",  # row 5: bad category
        "1001,Ravi Kumar,9876543214,teacher,31-02-2025,,",  # row 6: bad date
        "1001,Ravi Kumar,9876543215,teacher,2999-01-01,,",  # row 7: future date
        "1001,Asha Rani,9876543216,teacher,2025-03-01,x,fr",  # row 8: gender and language
        "1002,Asha Rani,9876543216,teacher,2025-03-01,,",  # row 9: same number as row 8
        "1001,Ok Person,+44 7700 900123,teacher,2025-03-01,,",  # row 10: not Indian
    )
    report = roster_import.dry_run(principal, "contacts.csv", data)
    found = {(problem.row, problem.column) for problem in report.problems}
    assert found == {
        (2, "mobile"),
        (3, "place_lgd_code"),
        (4, "name"),
        (5, "category"),
        (6, "consent_date"),
        (7, "consent_date"),
        (8, "gender"),
        (8, "consent_language"),
        (10, "mobile"),
    }
    messages = {(problem.row, problem.column): str(problem.message) for problem in report.problems}
    assert messages[(2, "mobile")] == "An Indian mobile number has ten digits."
    assert messages[(10, "mobile")] == "Only Indian numbers (+91) can be used."
    assert "9999" in messages[(3, "place_lgd_code")]
    # Row 8 has problems of its own, so row 9's number is not yet "a duplicate"; fix row 8 and it
    # is.
    assert not report.ok and contact_count(db) == 0

    response = upload(client, "/roster-files/import/check", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "An Indian mobile number has ten digits." in page and 'data-label="Row"' in page
    assert (
        'action="/roster-files/import/commit"' not in page
    )  # no commit form while problems remain
    assert contact_count(db) == 0
    assert (
        db.session.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "roster.imported")
        )
        == 0
    )


def test_a_number_twice_in_the_file_is_reported_on_the_second_row(world):
    principal = world.login(world.constable)
    data = csv_bytes(
        HEADER + ",mobile_alt",
        "1001,Asha Rani,9876543216,teacher,2025-03-01,",
        "1002,Asha Rani,9876543217,teacher,2025-03-01,09876543216",
    )
    report = roster_import.dry_run(principal, "c.csv", data)
    assert [(p.row, p.column, str(p.message)) for p in report.problems] == [
        (3, "mobile_alt", "The same number is already on row 2 of this file.")
    ]


def test_a_number_already_on_a_visible_contact_elsewhere_is_a_problem(world, db):
    principal = world.login(world.constable)
    db.session.add(
        Contact(
            place=world.kirthal,
            unit_path=world.kirthal.unit_path,
            name="Old Contact",
            name_script=Script.LATIN,
            mobile="+919876543210",
            category=ContactCategory.TRADER,
            status=ContactStatus.ACTIVE,
        )
    )
    db.session.flush()
    report = roster_import.dry_run(
        principal, "c.csv", csv_bytes(HEADER, "1001,New Person,9876543210,teacher,2025-03-01")
    )
    assert [(p.row, p.column) for p in report.problems] == [(2, "mobile")]
    assert "already on contact" in str(report.problems[0].message)


def test_categories_genders_and_yes_no_accept_codes_and_both_languages(world):
    principal = world.login(world.constable)
    data = csv_bytes(
        HEADER + ",gender,whatsapp,consent_language",
        "1001,Asha Rani,9876543216,Women's representative,2025-03-01,महिला,हाँ,हिंदी",
        "1001,Ravi Kumar,9876543217,ex_serviceman,2025-03-01,M,no,en",
        "1001,रवि कुमार,9876543218,शिक्षक,2025-03-01,,,",
    )
    report = roster_import.dry_run(principal, "c.csv", data)
    assert report.ok, report.problems
    first, second, third = (row.details for row in report.ready)
    assert (first.category, first.gender.value, first.whatsapp, first.consent_language) == (
        ContactCategory.WOMEN_REPRESENTATIVE,
        "female",
        True,
        "hi",
    )
    assert (second.category, second.gender.value, second.whatsapp) == (
        ContactCategory.EX_SERVICEMAN,
        "male",
        False,
    )
    assert (
        third.category == ContactCategory.TEACHER
        and third.name_script == Script.DEVANAGARI
        and third.name_other
    )


# ---- the commit ------------------------------------------------------------------------------


def test_a_clean_file_imports_every_row_as_pending_with_one_audit_event(client, world, db):
    world.login(world.constable)
    data = good_file()
    response = upload(client, "/roster-files/import/check", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    sha = roster_import.file_sha256(data)
    assert sha in page and 'action="/roster-files/import/commit"' in page
    assert contact_count(db) == 0

    response = upload(client, "/roster-files/import/commit", data, sha256=sha)
    assert response.status_code == 302
    contacts = db.session.scalars(select(Contact).order_by(Contact.id)).all()
    assert [c.mobile for c in contacts] == ["+919876543210", "+919876543211", "+919876543212"]
    assert {c.status for c in contacts} == {ContactStatus.PENDING}
    assert contacts[0].name_script == Script.DEVANAGARI and contacts[0].name_other
    assert contacts[2].category == ContactCategory.EX_SERVICEMAN
    assert (
        contacts[1].consent_on == date(2025, 3, 1)
        and contacts[0].enrolled_by_officer_id == world.constable.id
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "roster.imported")
    ).all()
    assert len(events) == 1
    assert '"created":3' in events[0].detail and '"rows":3' in events[0].detail
    assert "98765" not in events[0].detail and "Sunita" not in events[0].detail


def test_one_bad_row_means_nothing_is_imported(client, world, db):
    principal = world.login(world.constable)
    data = good_file() + b"1001,Bad Number,5555555555,teacher,2025-03-01\r\n"
    report = roster_import.commit(principal, "c.csv", data)
    assert (
        not report.committed
        and report.created == 0
        and [(p.row, p.column) for p in report.problems] == [(5, "mobile")]
    )
    db.session.rollback()
    response = upload(
        client, "/roster-files/import/commit", data, sha256=roster_import.file_sha256(data)
    )
    assert response.status_code == 409
    assert "An Indian mobile number starts with 6, 7, 8 or 9." in response.get_data(as_text=True)
    assert contact_count(db) == 0


def test_reimporting_the_same_file_creates_nothing_new_and_says_already_enrolled(client, world, db):
    world.login(world.constable)
    data = good_file()
    sha = roster_import.file_sha256(data)
    assert upload(client, "/roster-files/import/commit", data, sha256=sha).status_code == 302
    assert contact_count(db) == 3
    response = upload(client, "/roster-files/import/check", data)
    page = response.get_data(as_text=True)
    assert "Already enrolled in the same place, skipped (rows): 2, 3, 4" in page
    assert "nothing new to import" in page
    response = upload(client, "/roster-files/import/commit", data, sha256=sha)
    assert response.status_code == 302
    assert contact_count(db) == 3


def test_the_commit_refuses_a_file_other_than_the_one_checked(client, world, db):
    world.login(world.constable)
    response = upload(client, "/roster-files/import/commit", good_file(), sha256="0" * 64)
    assert response.status_code == 302
    response = client.get("/roster-files/")
    assert "This is not the file you checked." in response.get_data(as_text=True)
    assert contact_count(db) == 0


def test_an_xlsx_file_with_numeric_and_date_cells_imports(world, db):
    principal = world.login(world.constable)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["स्थान एलजीडी कोड", "नाम", "मोबाइल", "श्रेणी", "सहमति तिथि", "remarks"])
    sheet.append([1001, "राम किशोर", 9876543210, "प्रधान", date(2025, 3, 1), "ignored"])
    sheet.append([])
    sheet.append(["1002", "Sunita Devi", 919876543211, "doctor", "2025-03-02", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = roster_import.commit(principal, "c.xlsx", buffer.getvalue())
    assert report.committed and report.created == 2 and report.ignored_columns == ["remarks"]
    assert report.file_format == "xlsx"
    assert sorted(db.session.scalars(select(Contact.mobile))) == ["+919876543210", "+919876543211"]


# ---- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("9.87654E+09", "digits were lost"),
        ("9,87654E+09", "digits"),  # a comma decimal is not a number either
        ("9876543210.0", "+919876543210"),
        ("9.876543210E+09", "+919876543210"),
        ("09876543210", "+919876543210"),
        ("919876543210", "+919876543210"),
        ("९८७६५४३२१०", "+919876543210"),
    ],
)
def test_excel_mangled_numbers_are_recovered_only_when_no_digit_was_lost(world, value, expected):
    principal = world.login(world.constable)
    data = csv_bytes(HEADER, f'1001,Ravi Kumar,"{value}",teacher,2025-03-01')
    report = roster_import.dry_run(principal, "c.csv", data)
    if expected.startswith("+91"):
        assert report.ok and report.ready[0].details.mobile == expected
    else:
        assert [p.column for p in report.problems] == ["mobile"]
        assert expected in str(report.problems[0].message)


def test_utf8_with_and_without_a_byte_order_mark_reads_the_same(world):
    principal = world.login(world.constable)
    plain = roster_import.dry_run(principal, "c.csv", good_file())
    with_bom = roster_import.dry_run(principal, "c.csv", b"\xef\xbb\xbf" + good_file())
    assert plain.ok and with_bom.ok
    assert [r.details for r in plain.ready] == [r.details for r in with_bom.ready]


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "c.csv", "The file is empty."),
        (b"\xef\xbb\xbf \r\n", "c.csv", "The file is empty."),
        (csv_bytes(HEADER), "c.csv", "The file has a header but no rows of contacts."),
        (csv_bytes(HEADER, ",,,,", ""), "c.csv", "The file has a header but no rows of contacts."),
        (
            csv_bytes("place_lgd_code,name,category", "1001,Ravi,teacher"),
            "c.csv",
            "Required columns are missing from the header: mobile, consent_date.",
        ),
        (
            csv_bytes(HEADER + ",name", "1001,Ravi,9876543210,teacher,2025-03-01,x"),
            "c.csv",
            "appears twice",
        ),
        (
            "place_lgd_code,name,mobile,category,consent_date\r\n1001,Rémy,9876543210,teacher,2025-03-01\r\n".encode(
                "latin-1"
            ),
            "c.csv",
            "not UTF-8 text (first unreadable byte on row 2)",
        ),
        (b"PK\x03\x04not really a workbook", "c.xlsx", "not a readable Excel workbook"),
        (b"%PDF-1.4", "c.pdf", "Upload a .csv or .xlsx file"),
    ],
)
def test_each_bad_file_gets_a_clear_message_and_changes_nothing(
    client, world, db, data, filename, message
):
    principal = world.login(world.constable)
    with pytest.raises(RosterFileError) as error:
        roster_import.dry_run(principal, filename, data)
    assert message in str(error.value.message)
    response = upload(client, "/roster-files/import/check", data, filename=filename)
    assert response.status_code == 400
    assert message.split(" (")[0] in response.get_data(as_text=True)
    assert contact_count(db) == 0


def test_extra_columns_are_ignored_with_a_note(client, world):
    world.login(world.constable)
    data = csv_bytes(HEADER + ",caste,remarks", "1001,Ravi Kumar,9876543210,teacher,2025-03-01,x,y")
    response = upload(client, "/roster-files/import/check", data)
    assert "were ignored: caste, remarks" in response.get_data(as_text=True)


def test_files_over_the_size_limit_are_refused(world, monkeypatch):
    principal = world.login(world.constable)
    data = good_file()
    monkeypatch.setattr(roster_import, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(RosterFileError) as error:
        roster_import.dry_run(principal, "c.csv", data)
    assert "larger than" in str(error.value.message)


def test_the_real_size_limit_is_two_megabytes_and_five_thousand_rows():
    assert roster_import.MAX_FILE_BYTES == 2 * 1024 * 1024 and roster_import.MAX_ROWS == 5000


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_files_over_the_row_limit_are_refused(world, monkeypatch, file_format):
    principal = world.login(world.constable)
    monkeypatch.setattr(roster_import, "MAX_ROWS", 2)
    rows = [f"1001,Person {n},98765432{n:02d},teacher,2025-03-01" for n in range(3)]
    if file_format == "csv":
        data = csv_bytes(HEADER, *rows)
    else:
        workbook = openpyxl.Workbook()
        for line in [HEADER, *rows]:
            workbook.active.append(line.split(","))
        buffer = io.BytesIO()
        workbook.save(buffer)
        data = buffer.getvalue()
    with pytest.raises(RosterFileError) as error:
        roster_import.dry_run(principal, f"c.{file_format}", data)
    assert "more than 2 rows" in str(error.value.message)


def test_the_fixture_files_give_their_documented_results(world):
    principal = world.login(world.constable)
    clean = roster_import.dry_run(principal, "clean.csv", (DATA_DIR / "clean_bom.csv").read_bytes())
    assert clean.ok and len(clean.ready) == 3
    mangled = roster_import.dry_run(
        principal, "mangled.csv", (DATA_DIR / "excel_mangled.csv").read_bytes()
    )
    assert [(p.row, p.column) for p in mangled.problems] == [(3, "mobile")]
    assert len(mangled.ready) == 2


# ---- scope -----------------------------------------------------------------------------------


def test_a_place_of_another_station_or_district_is_reported_as_unknown(world):
    constable = world.login(world.constable)
    data = csv_bytes(
        HEADER,
        "2001,Ravi Kumar,9876543210,teacher,2025-03-01",
        "3001,Sunita Devi,9876543211,teacher,2025-03-01",
    )
    report = roster_import.dry_run(constable, "c.csv", data)
    assert [(p.row, p.column) for p in report.problems] == [
        (2, "place_lgd_code"),
        (3, "place_lgd_code"),
    ]
    assert all("Unknown place code" in str(p.message) for p in report.problems)

    asp = world.login(world.asp)
    report = roster_import.dry_run(asp, "c.csv", data)
    assert [(p.row, p.column) for p in report.problems] == [
        (3, "place_lgd_code")
    ]  # Khekada is in the district


def test_the_asp_imports_into_any_station_of_the_district(world, db):
    asp = world.login(world.asp)
    data = csv_bytes(
        HEADER,
        "2001,Ravi Kumar,9876543210,teacher,2025-03-01",
        "1001,Sunita Devi,9876543211,teacher,2025-03-01",
    )
    report = roster_import.commit(asp, "c.csv", data)
    assert report.committed and report.created == 2
    assert {c.place.lgd_code for c in db.session.scalars(select(Contact))} == {"2001", "1001"}


def test_a_post_that_neither_enrols_nor_manages_cannot_import(client, world):
    world.login(world.circle_officer)
    assert client.get("/roster-files/").status_code == 403
    assert upload(client, "/roster-files/import/check", good_file()).status_code == 403
    assert client.get("/roster-files/template/en.csv").status_code == 403
