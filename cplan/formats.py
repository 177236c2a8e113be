"""Dates and times as people read them: the one module that formats them, in both languages.

Times are stored in UTC and shown in IST. The rules (issue 13, "found by trying it"):

* **Day, month, year, always.** "12 Feb 2026" / "12 फ़रवरी 2026"; numeric dates (the feed's
  short form, the SMS) are ``12/02/26`` or ``12-02-2026``, never month first, so 12/2/26 can
  only be read as 12 February.
* **English times are 24-hour** ("14:35"), as control-room logs write them.
* **Hindi times use the day's periods**, as people say them: सुबह (04:00-11:59), दोपहर
  (12:00-15:59), शाम (16:00-19:59), रात (20:00-03:59) before a 12-hour clock ("दोपहर 2:35",
  "रात 12:05"); never "AM/PM" nor the abbreviations Babel's Hindi locale prints ("फ़र॰", "pm").
  Hindi months are written in full (they are short, and Hindi does not abbreviate them).
* **Files** (CSV exports) write ``12 Feb 2026 14:35`` in either language: day first, and a
  month name that every spreadsheet reads as a date whatever its locale (``12-02-2026`` would
  be taken for 2 December by a spreadsheet set to US dates). File *names* keep year-month-day
  (``incidents-20260212-1435.csv``) so that downloads sort by date in a folder.

Nothing here reads the request: the web layer passes the reader's language
(``cplan.web.templating`` registers the ``ist`` and ``ist_date`` filters), services pass theirs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")

MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "hi": (
        "जनवरी",
        "फ़रवरी",
        "मार्च",
        "अप्रैल",
        "मई",
        "जून",
        "जुलाई",
        "अगस्त",
        "सितंबर",
        "अक्टूबर",
        "नवंबर",
        "दिसंबर",
    ),
}
SHORT_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "hi": MONTHS["hi"],
}
WEEKDAYS = {  # Monday first, as ``date.weekday()`` counts
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "hi": ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
}
# (first hour, name): each period runs until the next one starts; रात wraps past midnight.
HINDI_DAY_PERIODS = ((0, "रात"), (4, "सुबह"), (12, "दोपहर"), (16, "शाम"), (20, "रात"))
STYLES = ("short", "medium", "long", "full")


def _language(language: str | None) -> str:
    return "hi" if language == "hi" else "en"


def in_ist(value: datetime) -> datetime:
    """An aware datetime in IST (a naive one is taken as UTC, as the database stores it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(IST)


def ist_day(value: datetime) -> date:
    """The calendar day in India of a moment (the day a daily limit counts, "today")."""
    return in_ist(value).date()


def hindi_day_period(hour: int) -> str:
    """सुबह, दोपहर, शाम or रात for an hour of the day (0-23)."""
    name = HINDI_DAY_PERIODS[0][1]
    for first_hour, period in HINDI_DAY_PERIODS:
        if hour >= first_hour:
            name = period
    return name


def time_text(value: datetime, language: str = "en", *, seconds: bool = False) -> str:
    """The IST clock time: ``14:35`` in English, ``दोपहर 2:35`` in Hindi."""
    moment = in_ist(value)
    tail = f":{moment.second:02d}" if seconds else ""
    if _language(language) == "hi":
        hour = moment.hour % 12 or 12
        return f"{hindi_day_period(moment.hour)} {hour}:{moment.minute:02d}{tail}"
    return f"{moment.hour:02d}:{moment.minute:02d}{tail}"


def date_text(value: date | datetime, language: str = "en", style: str = "medium") -> str:
    """A day, day first: ``12/02/26`` (short), ``12 Feb 2026`` (medium), ``12 February 2026``
    (long), ``Thursday, 12 February 2026`` (full). A datetime is taken in IST."""
    day = in_ist(value).date() if isinstance(value, datetime) else value
    language = _language(language)
    if style == "short":
        return f"{day.day:02d}/{day.month:02d}/{day.year % 100:02d}"
    months = SHORT_MONTHS if style == "medium" else MONTHS
    text = f"{day.day} {months[language][day.month - 1]} {day.year}"
    if style == "full":
        text = f"{WEEKDAYS[language][day.weekday()]}, {text}"
    return text


def datetime_text(value: datetime, language: str = "en", style: str = "medium") -> str:
    """A moment in IST: its date in ``style`` and its time; ``full`` adds seconds and "IST"."""
    if style not in STYLES:
        raise ValueError(f"unknown date style {style!r}")
    full = style == "full"
    text = f"{date_text(value, language, style)}, {time_text(value, language, seconds=full)}"
    return f"{text} IST" if full else text


def file_datetime(value: datetime | None) -> str:
    """A moment for a CSV cell: ``12 Feb 2026 14:35`` (IST) whatever the reader's language."""
    if value is None:
        return ""
    moment = in_ist(value)
    return f"{moment.day:02d} {SHORT_MONTHS['en'][moment.month - 1]} {moment.year} {moment:%H:%M}"


def numeric_date(value: date | datetime) -> str:
    """``12-02-2026``: a date where only ASCII will do (an SMS template's slot)."""
    day = in_ist(value).date() if isinstance(value, datetime) else value
    return f"{day.day:02d}-{day.month:02d}-{day.year}"


def file_name_stamp(value: datetime, *, with_time: bool = False) -> str:
    """``20260212`` (or ``20260212-1435``) in IST, for a download's file name: sorts by date."""
    moment = in_ist(value)
    return f"{moment:%Y%m%d-%H%M}" if with_time else f"{moment:%Y%m%d}"
