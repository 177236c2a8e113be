"""One rule for typed names: at least one letter, for contacts, officers and posts alike; names a
spreadsheet would take for a formula are accepted, warned about in the import's dry run, and
exported as text."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select

from cplan.models import Officer, Post
from cplan.models.roster import Contact, ContactStatus
from cplan.pipelines import roster_export, roster_import
from cplan.services import accounts, enrolment, names, roster
from cplan.services.principal import Principal

NO_LETTER = "A name needs at least one letter"
NO_LETTER_HI = "नाम में कम से कम एक अक्षर होना चाहिए"

# Nothing a roster could call anyone by: zero-width characters, emoji, punctuation, digits, a
# lone vowel sign, a Hangul filler (a "letter" that shows nothing).
WITHOUT_LETTERS = [
    "\u200b\u200b",
    "\u200d",
    "\ufeff \u2060",
    "🙂🙏",
    "---",
    "...",
    "@@",
    "12345",
    "ि",
    "\u3164\u3164",
]


@pytest.mark.parametrize("text", WITHOUT_LETTERS)
def test_a_name_without_any_letter_is_refused(text):
    with pytest.raises(names.InvalidName) as refused:
        names.clean_name(text)
    assert NO_LETTER in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("राम किशोर", "राम किशोर"),
        ("  Ram   Kishore ", "Ram Kishore"),
        ("O'Brien", "O'Brien"),
        ("श्रीमती क्षमा", "श्रीमती क्षमा"),
        ("Ram 🙏", "Ram 🙏"),
        ("Ra\u200bm", "Ram"),
        ("=Ram", "=Ram"),
        ("-Sita", "-Sita"),
        ("@Ravi", "@Ravi"),
        ("+Mohan", "+Mohan"),
        ("क्\u200dष", "क्\u200dष"),  # a zero-width joiner shaping a conjunct stays
    ],
)
def test_names_with_letters_are_accepted_and_tidied(typed, kept):
    assert names.clean_name(typed) == kept


def test_an_empty_optional_name_is_empty_and_a_too_long_one_is_refused():
    assert names.clean_name("  ", required=False) == ""
    with pytest.raises(names.InvalidName):
        names.clean_name("")
    with pytest.raises(names.InvalidName):
        names.clean_name("क" * 201)


# ---- everywhere a name is typed --------------------------------------------------------------


@pytest.fixture
def world(db, make_district, make_station, make_place, make_officer):
    district = make_district("Baghpat", code="124")
    station = make_station(district, "Baraut")
    world = {
        "district": district,
        "station": station,
        "place": make_place("BIJROL", station=station, lgd_code="119300", name_hi="बिजरौल"),
        "constable": make_officer("constable", station),
        "asp": make_officer("asp", district),
        "sp": make_officer("sp_office", district),
    }
    db.session.commit()
    return world


def principal(officer):
    return Principal(officer=officer, post=officer.test_post, session=None)


def details(name="Ram Kishore", **fields):
    values = dict(name=name, mobile="9876543210", category="teacher", consent_on=date(2026, 1, 1))
    values.update(fields)
    return roster.ContactDetails(**values)


def contacts(db):
    return db.session.scalar(select(func.count(Contact.id)))


@pytest.mark.parametrize("language, message", [("en", NO_LETTER), ("hi", NO_LETTER_HI)])
def test_the_enrol_form_refuses_a_name_of_emoji_with_a_clear_message(
    db, client, login_as, world, language, message
):
    login_as(world["constable"])
    client.post(f"/language/{language}")
    response = client.post(
        f"/roster/places/{world['place'].id}/enrol",
        data={
            "name": "🙂🙂",
            "mobile": "98765 43210",
            "category": "teacher",
            "consent_on": "2026-01-01",
        },
    )
    assert response.status_code == 400  # the form again, with the message
    assert message in response.get_data(as_text=True)
    assert contacts(db) == 0


def test_the_other_script_name_follows_the_same_rule(db, world):
    with pytest.raises(roster.RosterError) as refused:
        roster.enrol(
            principal(world["constable"]), world["place"], details(name_other="\u200b\u200b")
        )
    assert refused.value.field == "name_other"


def test_a_correction_to_a_name_of_punctuation_is_refused(db, client, login_as, world):
    contact = roster.enrol(principal(world["constable"]), world["place"], details())
    enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    db.session.commit()
    login_as(world["constable"])
    response = client.post(
        f"/enrolments/contacts/{contact.id}/correct",
        data={"name": "...", "mobile": "9876543210", "category": "teacher"},
    )
    assert NO_LETTER in response.get_data(as_text=True)
    with pytest.raises(roster.RosterError, match="A name needs"):
        enrolment.propose_correction(principal(world["constable"]), contact.id, details(name="..."))


def test_a_resubmission_with_an_invisible_name_is_refused(db, world):
    contact = roster.enrol(principal(world["constable"]), world["place"], details())
    enrolment.decide_enrolment(
        principal(world["asp"]), contact.id, contact.version, "reject", reason="duplicate", note=""
    )
    db.session.commit()
    with pytest.raises(roster.RosterError) as refused:
        enrolment.resubmit(
            principal(world["constable"]), contact.id, details(name="\u200b\u200d\u200b")
        )
    assert refused.value.field == "name"
    assert db.session.get(Contact, contact.id).status == ContactStatus.REJECTED


def test_officers_names_and_posts_titles_need_a_letter(db, client, login_as, world):
    login_as(world["sp"])
    page = client.post(
        "/admin/officers/new",
        data={"pno": "AB1234", "name": "😀😀", "name_hi": "—", "unit": str(world["district"].id)},
    ).get_data(as_text=True)
    assert page.count(NO_LETTER) == 2  # under the name and under the Hindi name
    assert db.session.scalar(select(Officer).where(Officer.pno == "AB1234")) is None
    officer = world["constable"]
    page = client.post(
        f"/admin/officers/{officer.id}/names", data={"name": "\u200b", "name_hi": ""}
    )
    assert page.status_code == 400 and NO_LETTER in page.get_data(as_text=True)

    sp = principal(world["sp"])
    with pytest.raises(accounts.AccountError):
        accounts.create_officer(sp, pno="AB1235", name="!!!", rank="", unit=world["district"])
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_post(
            sp,
            title_en="🚓",
            title_hi="",
            role="station_officer",
            unit=world["station"],
            cug="9876500001",
        )
    assert refused.value.field == "title_en"
    db.session.rollback()
    assert db.session.scalar(select(Post).where(Post.cug_number == "+919876500001")) is None


# ---- the bulk import -------------------------------------------------------------------------


def csv_file(*rows):
    lines = ["place_lgd_code,name,name_other,mobile,category,consent_date", *rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def upload(client, endpoint, data, **fields):
    return client.post(
        endpoint,
        data={"file": (io.BytesIO(data), "contacts.csv"), **fields},
        content_type="multipart/form-data",
    )


def test_the_dry_run_refuses_names_without_letters_by_row_and_column(app, db, world):
    with app.test_request_context():
        report = roster_import.dry_run(
            principal(world["constable"]),
            "c.csv",
            csv_file(
                "119300,Ram Kishore,,9876543210,teacher,2025-03-01",
                "119300,🙏🙏,,9876543211,teacher,2025-03-01",
                "119300,Sita Devi,\u200b,9876543212,teacher,2025-03-01",
            ),
        )
        assert [(p.row, p.column) for p in report.problems] == [(3, "name"), (4, "name_other")]
        assert all(NO_LETTER in str(p.message) for p in report.problems)


def test_names_that_look_like_formulas_are_warnings_not_errors_and_export_as_text(
    db, client, login_as, world
):
    login_as(world["constable"])
    data = csv_file(
        "119300,=Ram Kishore,,9876543210,teacher,2025-03-01",
        "119300,Sita Devi,@Sita,9876543211,teacher,2025-03-01",
        "119300,Mohan Lal,,9876543212,teacher,2025-03-01",
    )
    check = upload(client, "/roster-files/import/check", data)
    page = check.get_data(as_text=True)
    assert check.status_code == 200
    assert "Warnings" in page and "which spreadsheets take for a formula" in page
    assert 'action="/roster-files/import/commit"' in page  # warnings do not block the import
    with client.application.test_request_context():
        report = roster_import.dry_run(principal(world["constable"]), "c.csv", data)
    assert report.ok
    assert [(w.row, w.column) for w in report.warnings_sorted()] == [(2, "name"), (3, "name_other")]

    committed = upload(
        client, "/roster-files/import/commit", data, sha256=roster_import.file_sha256(data)
    )
    assert committed.status_code == 302
    for contact in db.session.scalars(select(Contact)):
        enrolment.decide_enrolment(principal(world["asp"]), contact.id, contact.version, "approve")
    db.session.commit()
    exported = roster_export.to_csv(
        roster_export.active_contacts(principal(world["asp"]), station=world["station"])
    )
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    cells = {cell for row in rows for cell in row}
    assert "'=Ram Kishore" in cells and "'@Sita" in cells
    assert "=Ram Kishore" not in cells
