"""Dates and times in both languages: day first everywhere, Hindi day periods, one module."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cplan import formats

# 09:05 UTC is 14:35 IST, on Thursday 12 February 2026.
AFTERNOON = datetime(2026, 2, 12, 9, 5, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("style", "english", "hindi"),
    [
        ("short", "12/02/26, 14:35", "12/02/26, दोपहर 2:35"),
        ("medium", "12 Feb 2026, 14:35", "12 फ़रवरी 2026, दोपहर 2:35"),
        ("long", "12 February 2026, 14:35", "12 फ़रवरी 2026, दोपहर 2:35"),
        (
            "full",
            "Thursday, 12 February 2026, 14:35:07 IST",
            "गुरुवार, 12 फ़रवरी 2026, दोपहर 2:35:07 IST",
        ),
    ],
)
def test_a_moment_reads_day_first_in_both_languages(style, english, hindi):
    assert formats.datetime_text(AFTERNOON, "en", style) == english
    assert formats.datetime_text(AFTERNOON, "hi", style) == hindi


@pytest.mark.parametrize(
    ("utc_hour", "utc_minute", "hindi", "english"),
    [
        (18, 35, "रात 12:05", "00:05"),  # just after midnight IST
        (22, 29, "रात 3:59", "03:59"),
        (22, 30, "सुबह 4:00", "04:00"),
        (3, 0, "सुबह 8:30", "08:30"),
        (6, 30, "दोपहर 12:00", "12:00"),  # noon
        (10, 29, "दोपहर 3:59", "15:59"),
        (10, 30, "शाम 4:00", "16:00"),
        (14, 29, "शाम 7:59", "19:59"),
        (14, 30, "रात 8:00", "20:00"),
    ],
)
def test_hindi_times_name_the_part_of_the_day_and_english_ones_are_24_hour(
    utc_hour, utc_minute, hindi, english
):
    moment = datetime(2026, 2, 12, utc_hour, utc_minute, tzinfo=UTC)
    assert formats.time_text(moment, "hi") == hindi
    assert formats.time_text(moment, "en") == english


def test_no_format_prints_am_pm_or_babels_abbreviations():
    for hour in range(24):
        moment = datetime(2026, 2, 12, hour, 0, tzinfo=UTC)
        for language in ("en", "hi"):
            for style in formats.STYLES:
                text = formats.datetime_text(moment, language, style)
                assert not re.search(r"\b(am|pm|AM|PM)\b", text), text
                assert "॰" not in text, text


def test_twelve_february_is_never_read_as_the_second_of_december():
    day = date(2026, 2, 12)
    assert formats.date_text(day, "en", "short") == "12/02/26"
    assert formats.date_text(day, "hi", "short") == "12/02/26"
    assert formats.numeric_date(day) == "12-02-2026"
    assert formats.file_datetime(AFTERNOON) == "12 Feb 2026 14:35"


def test_a_date_of_a_utc_moment_is_its_day_in_ist():
    evening_utc = datetime(2025, 3, 4, 20, 0, tzinfo=UTC)  # 01:30 on 5 March in IST
    assert formats.date_text(evening_utc, "en") == "5 Mar 2025"
    assert formats.date_text(evening_utc, "hi") == "5 मार्च 2025"
    assert formats.file_name_stamp(evening_utc) == "20250305"


def test_naive_datetimes_are_taken_as_utc():
    assert formats.time_text(datetime(2026, 2, 12, 9, 5), "en") == "14:35"


def test_only_the_formats_module_formats_dates_for_people():
    """Babel's date functions and strftime print month-first or "pm" in one language or the
    other; every date or time a person reads goes through ``cplan.formats``."""
    root = Path(__file__).resolve().parents[1] / "cplan"
    allowed = {root / "formats.py", root / "models" / "audit.py"}  # the audit hash's canonical form
    offenders = []
    for path in root.rglob("*.py"):
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(
            r"\b(format_datetime|format_date|format_time|format_skeleton)\b|babel\.dates|strftime\(",
            text,
        ):
            offenders.append(str(path.relative_to(root)))
    assert not offenders, offenders


# ---- on the pages ----------------------------------------------------------------------------


@pytest.fixture
def audited(db, make_district, make_officer, monkeypatch):
    from cplan.services import audit

    district = make_district("Baghpat", code="124")
    sp = make_officer("sp_office", district)
    monkeypatch.setattr(audit, "utcnow", lambda: AFTERNOON)
    event = audit.record(
        "demo.people_loaded", officer=sp, post=sp.test_post, unit=district, detail={}
    )
    monkeypatch.undo()
    db.session.commit()
    return sp, event


def test_the_audit_pages_show_times_day_first_in_english(client, login_as, audited):
    sp, event = audited
    login_as(sp)
    listing = client.get("/audit/").get_data(as_text=True)
    assert "12 Feb 2026, 14:35" in listing
    detail = client.get(f"/audit/{event.id}").get_data(as_text=True)
    assert "Thursday, 12 February 2026, 14:35:07 IST" in detail


def test_the_audit_pages_show_hindi_day_periods_in_hindi(client, login_as, audited):
    sp, event = audited
    login_as(sp)
    client.post("/language/hi")
    listing = client.get("/audit/").get_data(as_text=True)
    assert "12 फ़रवरी 2026, दोपहर 2:35" in listing
    detail = client.get(f"/audit/{event.id}").get_data(as_text=True)
    assert "गुरुवार, 12 फ़रवरी 2026, दोपहर 2:35:07 IST" in detail
    assert not re.search(r"\d (am|pm)\b", listing + detail)
