"""Issue 14, finding 6: weak passwords are refused with the reason, wherever a password is set.

The red team's four (password12, uppolice123, baghpat2026, 1234567890) and their 12-character
cousins; the officer's own PNO, name, CUG number, district and station from the database;
leet spellings, years, keyboard runs and repeats; and the passphrases that must still pass.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cplan.models import Officer, utcnow
from cplan.services import accounts, passwords

COMMON = "That password is on a list of common or breached passwords."
PLACE = "That password is built from police words or place names"
PERSONAL = "That password is built from your PNO, your name or your CUG number"
PATTERN = "That password is built from a year, a keyboard or alphabet run"
SHORT = "Choose a password of at least 12 characters."


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.fixture
def officer(db, make_district, make_station, make_officer):
    """Ramesh Yadav (PNO 152340897), SHO of Chhaprauli in Baghpat, CUG +91 94 5500 1234."""
    baghpat = make_district("Baghpat", code="124")
    make_district("Gautam Buddha Nagar", code="151")
    chhaprauli = make_station(baghpat, "Chhaprauli")
    make_station(baghpat, "Khekada")
    officer = make_officer("station_officer", chhaprauli, pno="152340897", name="Ramesh Yadav")
    officer.test_post.cug_number = "+919455001234"
    db.session.commit()
    return officer


def reason(password, officer=None) -> str | None:
    context = passwords.context_for(officer) if officer is not None else passwords.Context()
    found = passwords.problem(password, context)
    return None if found is None else str(found)


@pytest.mark.parametrize(
    "password, expected",
    [
        # The red team's four, as typed and stretched to 12 characters.
        ("password12", COMMON),
        ("uppolice123", PLACE),
        ("baghpat2026", PLACE),
        ("1234567890", COMMON),
        ("Password1234", COMMON),
        ("UPPolice@2026", PLACE),
        ("Baghpat@2026!", PLACE),
        ("123456789012", PATTERN),
        # Leet spellings, added digits and symbols, case.
        ("P@ssw0rd!2026", COMMON),
        ("B@ghp4t#2O26!", PLACE),
        ("JaiShreeRam@123", COMMON),
        ("C-Plan_Police1", PLACE),
        # Years, keyboard and alphabet runs, repeats.
        ("qwertyuiop1234", COMMON),
        ("zaq1xsw2cde3vfr4", PATTERN),
        ("mnbvcxzlkjhgf", PATTERN),
        ("zzzzzzzzzzzzzzz", PATTERN),
        ("abcdabcdabcd1990", PATTERN),
        ("ghaziabad#1947", COMMON),
        # A common word dressed in a year and a place is still a common word.
        ("Lucknow@Tiger2026", COMMON),
        ("kotwali-monkey-99", COMMON),
        # Long enough for nothing else to object: the length.
        ("Xk9#mP2$vL", SHORT),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(officer, password, expected):
    assert reason(password, officer).startswith(expected)


@pytest.mark.parametrize(
    "password",
    [
        "152340897abc!",
        "Ramesh@Yadav1975",
        "yadav-ramesh-007",
        "R4m3sh Y4d4v 2025",
        "mobile 9455001234!",
    ],
)
def test_the_officers_pno_name_and_cug_number_are_refused(officer, password):
    assert reason(password, officer).startswith(PERSONAL)


@pytest.mark.parametrize(
    "password",
    [
        "Chhaprauli@2025",
        "khekada thana 77",
        "gautambuddhanagar1",
        "Gautam-Buddha-Nagar",
        "बागपत पुलिस 2026",
    ],
)
def test_the_district_and_station_names_from_the_database_are_refused(officer, db, password):
    # Hindi names come from the database too.
    officer.unit.name_hi = "बागपत"
    db.session.commit()
    assert reason(password, officer).startswith(PLACE)


@pytest.mark.parametrize(
    "password",
    [
        "mango river lantern",
        "correct horse battery 42",
        "Xk9#mP2$vLq7",
        "गुलाब की खुशबू सुबह",
        "tiffin-monsoon-kettle",
        "my sister likes mangoes",
    ],
)
def test_passphrases_and_random_passwords_pass(officer, password):
    assert reason(password, officer) is None


def test_the_same_words_pass_for_someone_they_do_not_describe():
    assert reason("Chhaprauli sugarcane fields") is None


def test_the_list_is_shipped_with_the_app_and_says_where_it_comes_from():
    common = passwords.common_passwords()
    assert len(common) > 30_000
    assert {"password", "123456", "qwerty", "iloveyou", "jaishreeram", "sairam"} <= common
    readme = (passwords.DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "zxcvbn" in readme and "MIT" in readme  # its source and licence


def test_a_weak_password_at_first_sign_in_shows_the_reason_and_sets_nothing(client, db, officer):
    code = "ABCD-EFGH-JKLM"
    officer.password_hash = None
    officer.setup_code_hash = accounts._setup_hash(officer.pno, code)
    officer.setup_code_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()

    for weak in ("baghpat2026", "Ramesh@Yadav1975"):
        response = client.post(
            "/auth/setup",
            data={"pno": officer.pno, "code": code, "password": weak, "confirm": weak},
            follow_redirects=True,
        )
        page = response.get_data(as_text=True)
        assert PLACE in page or PERSONAL in page
        db.session.expire_all()
        assert db.session.get(Officer, officer.id).password_hash is None

    good = "tiffin-monsoon-kettle"
    response = client.post(
        "/auth/setup", data={"pno": officer.pno, "code": code, "password": good, "confirm": good}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert accounts.authenticate_officer(officer.test_post, officer.pno, good) is not None
    assert (
        db.session.scalar(select(Officer.setup_code_hash).where(Officer.id == officer.id)) is None
    )
