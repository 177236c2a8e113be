"""Bulk import of contacts from a CSV or XLSX file: a dry run, then an all-or-nothing commit.

Who may import where: posts that enrol contacts (station staff, SHO) import into their own
station's places; posts that manage the roster (ASP, SP office) into any place of their
district. A place code outside that scope is reported exactly like an unknown code.

The two steps are stateless: nothing is stored on the server between them. The dry run reads
the whole file and reports every problem by file row (1-based; the header is row 1) and column;
the commit form asks for the same file again (its SHA-256 from the dry run travels in a hidden
field so a different file is refused), reads and checks it again inside the commit transaction,
and imports every row or none. Imported contacts enter as *pending* enrolments under the same
rules as ``roster.enrol`` (``roster.clean`` normalises them).

Re-importing a file creates nothing new: a row whose number is already on a visible contact of
the same place is reported "already enrolled" and skipped. A number already on a visible
contact of another place is a problem (enrol such a person through the form, which warns and
links). Contacts the importing post may not see (confidential ones) are not consulted, so the
import never reveals them; the approver sees such a duplicate.

Limits (each refused with a clear message, nothing changed): ``MAX_FILE_BYTES`` (2 MB) and
``MAX_ROWS`` (5,000 data rows); UTF-8 text only for CSV (with or without a byte-order mark).
The file is recognised by its content and read by ``cplan.pipelines.uploads``, which inspects a
workbook before parsing it (unpacked size, compression ratio, no XML entities) and limits
columns and cell sizes while streaming the rows.
Spreadsheet damage to numbers is caught: ``9.87654E+09`` lost digits and is refused, while
``9876543210.0`` and numeric XLSX cells are recovered exactly.

Services flush, never commit; one ``roster.imported`` audit event per committed import records
the counts (no names, no numbers).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from cplan.extensions import db
from cplan.models.geo import Place
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Gender
from cplan.pipelines import tables
from cplan.pipelines.tables import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    Column,
    FileReport,
    Problem,
    Table,
    TableFileError,
    by_row_and_column,
    csv_file,
    file_sha256,
    loose,
)
from cplan.pipelines.tables import text as cell_text
from cplan.services import audit, names, roster
from cplan.services.permissions import Permission
from cplan.services.phone import DEVANAGARI_DIGITS, InvalidMobile, normalise_mobile
from cplan.services.principal import Principal

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
FORMATS = ("csv", "xlsx")
# How many numbers go into one IN (...) list when looking for duplicates in the database.
QUERY_CHUNK = 500


# ---- the columns -----------------------------------------------------------------------------


COLUMNS = (
    Column("place_lgd_code", "स्थान एलजीडी कोड", True),
    Column("name", "नाम", True),
    Column("name_other", "दूसरी लिपि में नाम"),
    Column("mobile", "मोबाइल", True),
    Column("mobile_alt", "वैकल्पिक मोबाइल"),
    Column("whatsapp", "व्हाट्सऐप"),
    Column("category", "श्रेणी", True),
    Column("gender", "लिंग"),
    Column("address", "पता"),
    Column("notes", "टिप्पणी"),
    Column("consent_date", "सहमति तिथि", True),
    Column("consent_language", "सहमति भाषा"),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
NAME_COLUMNS = ("name", "name_other")

# Category names as plain data in both languages (matching must not depend on the reader's
# language, and the template lists them in both). Extra spellings people type are accepted too.
CATEGORY_NAMES: dict[ContactCategory, tuple[str, str]] = {
    ContactCategory.PRADHAN: ("Pradhan", "प्रधान"),
    ContactCategory.FORMER_PRADHAN: ("Former pradhan", "पूर्व प्रधान"),
    ContactCategory.BDC_WARD_MEMBER: ("BDC / ward member", "बीडीसी / वार्ड सदस्य"),
    ContactCategory.TEACHER: ("Teacher", "शिक्षक"),
    ContactCategory.DOCTOR: ("Doctor", "चिकित्सक"),
    ContactCategory.EX_SERVICEMAN: ("Ex-serviceman", "पूर्व सैनिक"),
    ContactCategory.ADVOCATE: ("Advocate", "अधिवक्ता"),
    ContactCategory.TRADER: ("Trader", "व्यापारी"),
    ContactCategory.RELIGIOUS_LEADER: ("Religious leader", "धर्मगुरु"),
    ContactCategory.RETIRED_GOVERNMENT: ("Retired government employee", "सेवानिवृत्त सरकारी कर्मचारी"),
    ContactCategory.SOCIAL_WORKER: ("Social worker", "समाजसेवी"),
    ContactCategory.JOURNALIST: ("Journalist", "पत्रकार"),
    ContactCategory.YOUTH_REPRESENTATIVE: ("Youth representative", "युवा प्रतिनिधि"),
    ContactCategory.WOMEN_REPRESENTATIVE: ("Women's representative", "महिला प्रतिनिधि"),
    ContactCategory.OTHER: ("Other", "अन्य"),
}
CATEGORY_ALIASES = {
    "डॉक्टर": ContactCategory.DOCTOR,
    "वकील": ContactCategory.ADVOCATE,
    "शिक्षिका": ContactCategory.TEACHER,
    "अध्यापक": ContactCategory.TEACHER,
    "ग्राम प्रधान": ContactCategory.PRADHAN,
}
GENDER_NAMES: dict[Gender, tuple[str, ...]] = {
    Gender.FEMALE: ("female", "f", "woman", "महिला", "स्त्री"),
    Gender.MALE: ("male", "m", "man", "पुरुष"),
    Gender.TRANSGENDER: ("transgender", "ट्रांसजेंडर", "तृतीय लिंग"),
    Gender.NOT_STATED: ("not stated", "not_stated", "नहीं बताया"),
}
YES = {"yes", "y", "1", "true", "हाँ", "हां", "हा"}
NO = {"no", "n", "0", "false", "नहीं", "ना"}
LANGUAGES = {
    "hi": "hi",
    "hindi": "hi",
    "हिंदी": "hi",
    "हिन्दी": "hi",
    "en": "en",
    "english": "en",
    "अंग्रेज़ी": "en",
    "अंग्रेजी": "en",
}

_SCIENTIFIC = re.compile(r"[+-]?([0-9]+)(?:\.([0-9]*))?[eE][+-]?[0-9]+")
_WHOLE_DECIMAL = re.compile(r"([0-9]+)\.0+")
_LGD_CODE = re.compile(r"[0-9]{1,16}")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAY_FIRST_DATE = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})")


_CATEGORY_KEYS = {
    loose(name): category
    for category, names in CATEGORY_NAMES.items()
    for name in (category.value, *names)
}
_CATEGORY_KEYS.update({loose(name): category for name, category in CATEGORY_ALIASES.items()})
_GENDER_KEYS = {
    loose(name): gender for gender, names in GENDER_NAMES.items() for name in (gender.value, *names)
}


def category_name(category: ContactCategory, language: str) -> str:
    """The category's name in ``language`` ("hi" or "en")."""
    english, hindi = CATEGORY_NAMES[ContactCategory(category)]
    return hindi if language == "hi" else english


# ---- errors and reports ----------------------------------------------------------------------


# The file as a whole cannot be imported (size, type, encoding, header); nothing changed.
RosterFileError = TableFileError


@dataclass
class PreparedRow:
    """A row that passed every check: its place and the cleaned details, ready to insert."""

    row: int
    place: Place
    details: roster.CleanDetails


@dataclass
class ImportReport(FileReport):
    """What a dry run found, or what a commit did."""

    columns = COLUMNS

    ready: list[PreparedRow] = field(default_factory=list)
    already: list[tuple[int, int]] = field(default_factory=list)  # (row, existing contact id)
    # Worth a look but not wrong (a name a spreadsheet would take for a formula): never block.
    warnings: list[Problem] = field(default_factory=list)
    created: int = 0

    def warnings_sorted(self) -> list[Problem]:
        return by_row_and_column(self.warnings, COLUMNS)


# ---- who may import where ------------------------------------------------------------------


def may_import(principal: Principal) -> bool:
    """Station staff (ENROL_CONTACT) and the ASP / SP office (MANAGE_ROSTER) import contacts."""
    return principal.can(Permission.ENROL_CONTACT) or principal.can(Permission.MANAGE_ROSTER)


def _places_in_scope(principal: Principal, codes: set[str]) -> dict[str, Place]:
    """The places with these LGD codes that the post may import into (attached to a station)."""
    found: dict[str, Place] = {}
    ordered = sorted(codes)
    for start in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[start : start + QUERY_CHUNK]
        for place in db.session.scalars(
            select(Place).where(
                Place.lgd_code.in_(chunk),
                Place.station_id.is_not(None),
                principal.unit.covers(Place.unit_path),
            )
        ):
            found[place.lgd_code] = place
    return found


# ---- reading the file ----------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> Table:
    """Read and shape-check the whole file, or raise ``RosterFileError`` (``tables.read_table``:
    the file is inspected and read by ``cplan.pipelines.uploads``, then the row limits)."""
    return tables.read_table(
        filename,
        data,
        COLUMNS,
        max_bytes=MAX_FILE_BYTES,
        max_rows=MAX_ROWS,
        no_rows=_l("The file has a header but no rows of contacts."),
    )


# ---- checking the rows ---------------------------------------------------------------------


def mobilecell_text(value) -> str:
    """The typed number from a cell, undoing spreadsheet damage where it can be undone exactly.

    Raises ``InvalidMobile`` when a spreadsheet turned the number into scientific notation and
    lost digits (``9.87654E+09``); ``9876543210.0`` and numeric cells come back exactly.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        raise InvalidMobile(_l("Enter a mobile number."))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        raise InvalidMobile(
            _l("The spreadsheet stored this number with a fraction; type it again as text.")
        )
    text = str(value).strip().translate(DEVANAGARI_DIGITS)
    whole = _WHOLE_DECIMAL.fullmatch(text)
    if whole:
        return whole.group(1)
    scientific = _SCIENTIFIC.fullmatch(text)
    if scientific:
        return _from_scientific(text, scientific)
    return text


def _from_scientific(text: str, match: re.Match) -> str:
    """``9.876543210E+09`` keeps every digit and is recovered; ``9.87654E+09`` lost some."""
    significant = (match.group(1) + (match.group(2) or "")).lstrip("0")
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is not None and number == number.to_integral_value() and number > 0:
        digits = str(int(number))
        # Only when every digit was written out: 9.87654E+09 may stand for 9876543210.
        if len(significant) >= len(digits):
            return digits
    raise InvalidMobile(
        _l(
            "The spreadsheet turned this number into %(value)s and digits were lost. "
            "Format the column as Text and type the number again.",
            value=text,
        )
    )


def _parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).translate(DEVANAGARI_DIGITS)
    iso = _ISO_DATE.fullmatch(text)
    day_first = _DAY_FIRST_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        if day_first:
            return date(int(day_first.group(3)), int(day_first.group(2)), int(day_first.group(1)))
    except ValueError:
        pass
    raise ValueError(text)


def _check_row(
    number: int,
    values: dict,
    places: dict[str, Place],
    headers: dict[str, str],
    problems: list[Problem],
) -> PreparedRow | None:
    """Check every cell of one row, adding a problem per bad cell; the prepared row or None."""
    before = len(problems)

    def problem(key: str, message) -> None:
        problems.append(Problem(number, headers.get(key, key), message))

    def cell(key: str) -> str:
        return cell_text(values.get(key))

    code = cell("place_lgd_code").translate(DEVANAGARI_DIGITS)
    place = places.get(code) if _LGD_CODE.fullmatch(code) else None
    if not code:
        problem("place_lgd_code", _l("Enter the place's LGD code."))
    elif place is None:
        problem(
            "place_lgd_code",
            _l(
                "Unknown place code %(code)s (or not a place you can enrol contacts in).",
                code=code[:20],
            ),
        )
    elif place.uninhabited:
        problem(
            "place_lgd_code", _l("Nobody lives in this place; contacts cannot be enrolled here.")
        )

    # The one rule for names (at least one letter; cplan.services.names) and the roster's own.
    name = ""
    try:
        name = roster.contact_name(cell("name"))
    except roster.RosterError as error:
        problem("name", error.args[0])
    try:
        roster.contact_name(cell("name_other"), "name_other", required=False)
    except roster.RosterError as error:
        problem("name_other", error.args[0])

    mobiles = {}
    for key in ("mobile", "mobile_alt"):
        raw = values.get(key)
        if key == "mobile_alt" and not cell_text(raw):
            continue
        try:
            mobiles[key] = normalise_mobile(mobilecell_text(raw), allow_devanagari_digits=True)
        except InvalidMobile as error:
            problem(key, error.args[0])
    if mobiles.get("mobile") and mobiles.get("mobile") == mobiles.get("mobile_alt"):
        problem("mobile_alt", _l("The alternate number is the same as the mobile number."))

    category = _CATEGORY_KEYS.get(loose(cell("category")))
    if category is None:
        problem(
            "category",
            _l(
                "Unknown category %(value)s: use a code or name from the template's list.",
                value=cell("category")[:40] or "-",
            ),
        )
    gender = Gender.NOT_STATED
    if cell("gender"):
        gender = _GENDER_KEYS.get(loose(cell("gender")))
        if gender is None:
            problem("gender", _l("Write female, male, transgender or leave it empty."))
    whatsapp = loose(cell("whatsapp"))
    if whatsapp and whatsapp not in YES and whatsapp not in NO:
        problem("whatsapp", _l("Write yes or no (or leave it empty for no)."))
    language = ""
    if cell("consent_language"):
        language = LANGUAGES.get(loose(cell("consent_language")), "")
        if not language:
            problem("consent_language", _l("Write hi or en (the language of the notice given)."))

    consent_on = None
    if not cell("consent_date"):
        problem("consent_date", _l("Record the date the notice was given and consent obtained."))
    else:
        try:
            consent_on = _parse_date(values.get("consent_date"))
        except ValueError:
            problem("consent_date", _l("Write the date as YYYY-MM-DD or DD-MM-YYYY."))
        else:
            if consent_on > date.today():
                problem("consent_date", _l("The consent date cannot be in the future."))

    if len(problems) > before:
        return None
    details = roster.ContactDetails(
        name=name,
        mobile=mobiles["mobile"],
        category=category.value,
        name_other=cell("name_other"),
        mobile_alt=mobiles.get("mobile_alt", ""),
        whatsapp=whatsapp in YES,
        gender=gender.value,
        address=cell("address"),
        notes=cell("notes"),
        consent_on=consent_on,
        consent_language=language,
    )
    try:
        clean = roster.clean(details)
    except roster.RosterError as error:  # a rule the checks above do not repeat
        field_key = {"consent_on": "consent_date"}.get(error.field, error.field)
        problem(field_key or "name", error.args[0])
        return None
    return PreparedRow(number, place, clean)


def check(principal: Principal, table: Table, report: ImportReport) -> ImportReport:
    """Check every row against the rules, the file and the database (reads only)."""
    report.rows = len(table.rows)
    report.ignored_columns = table.ignored_columns
    codes = {
        cell_text(values.get("place_lgd_code")).translate(DEVANAGARI_DIGITS)
        for _n, values in table.rows
    }
    places = _places_in_scope(principal, {code for code in codes if _LGD_CODE.fullmatch(code)})
    prepared = [
        row
        for number, values in table.rows
        if (row := _check_row(number, values, places, table.headers_by_key, report.problems))
    ]
    report.warnings = formula_warnings(table)
    mobile_header = table.headers_by_key.get("mobile", "mobile")
    alt_header = table.headers_by_key.get("mobile_alt", "mobile_alt")

    # Duplicates within the file: a number (main or alternate) may appear on one row only.
    first_row: dict[str, int] = {}
    unique = []
    for row in prepared:
        clash = False
        for number, header in (
            (row.details.mobile, mobile_header),
            (row.details.mobile_alt, alt_header),
        ):
            if number is None:
                continue
            if number in first_row:
                report.problems.append(
                    Problem(
                        row.row,
                        header,
                        _l(
                            "The same number is already on row %(row)s of this file.",
                            row=first_row[number],
                        ),
                    )
                )
                clash = True
            else:
                first_row[number] = row.row
        if not clash:
            unique.append(row)

    # Against the database, within what the post may see.
    existing = _visible_contacts_with_numbers(principal, set(first_row))
    for row in unique:
        same_place = [
            contact
            for contact in existing.get(row.details.mobile, ())
            if contact.place_id == row.place.id and contact.mobile == row.details.mobile
        ]
        if same_place:
            report.already.append((row.row, same_place[0].id))
            continue
        duplicate = False
        for number, header in (
            (row.details.mobile, mobile_header),
            (row.details.mobile_alt, alt_header),
        ):
            others = [
                contact
                for contact in existing.get(number, ())
                if contact.status != ContactStatus.REJECTED
            ]
            if number and others:
                other = others[0]
                report.problems.append(
                    Problem(
                        row.row,
                        header,
                        _l(
                            "This number is already on contact %(id)s (place code %(code)s); enrol "
                            "this person through the form if both are right.",
                            id=other.id,
                            code=other.place.lgd_code or "-",
                        ),
                    )
                )
                duplicate = True
        if not duplicate:
            report.ready.append(row)
    return report


def formula_warnings(table: Table) -> list[Problem]:
    """Names beginning with =, +, - or @, by row and column: accepted as written (a name is what
    the person is called, and every export makes such a cell inert), but listed in the dry run,
    since they are often a spreadsheet's damage or a pasted formula rather than a name."""
    warnings = []
    for number, values in table.rows:
        for key in NAME_COLUMNS:
            text = names.tidy(cell_text(values.get(key)))
            if names.looks_like_formula(text):
                warnings.append(
                    Problem(
                        number,
                        table.headers_by_key.get(key, key),
                        _l(
                            "This name begins with “%(character)s”, which spreadsheets take for a "
                            "formula. It is imported as written and exported as text; check that "
                            "it really is the name.",
                            character=text[0],
                        ),
                    )
                )
    return warnings


def _visible_contacts_with_numbers(
    principal: Principal, numbers: set[str]
) -> dict[str, list[Contact]]:
    """Visible contacts (any status) having one of ``numbers`` as mobile or alternate, by number."""
    found: dict[str, list[Contact]] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), QUERY_CHUNK):
        chunk = ordered[start : start + QUERY_CHUNK]
        query = (
            select(Contact)
            .where(
                or_(Contact.mobile.in_(chunk), Contact.mobile_alt.in_(chunk)),
                roster.visible_condition(principal),
            )
            .order_by(Contact.id)
        )
        for contact in db.session.scalars(query):
            for number in {contact.mobile, contact.mobile_alt}:
                if number in numbers:
                    found.setdefault(number, []).append(contact)
    return found


# ---- the two steps -------------------------------------------------------------------------


def dry_run(principal: Principal, filename: str, data: bytes) -> ImportReport:
    """Read and check the file; writes nothing. Raises ``RosterFileError`` for a bad file."""
    if not may_import(principal):
        raise RosterFileError(_l("Your post cannot import contacts."))
    table = read_table(filename, data)
    report = ImportReport(
        filename=filename, file_format=table.file_format, sha256=file_sha256(data)
    )
    return check(principal, table, report)


def commit(
    principal: Principal, filename: str, data: bytes, expected_sha256: str | None = None
) -> ImportReport:
    """Check the file again and, when no row has a problem, enrol every ready row as pending.

    All or nothing: with any problem nothing is added and the report says why. Flushes only.
    """
    report = dry_run(principal, filename, data)
    report.check_same_file(expected_sha256)
    if not report.ok:
        return report
    contacts = [
        Contact(
            place=row.place,
            unit_path=row.place.unit_path,
            status=ContactStatus.PENDING,
            enrolled_by_officer_id=principal.officer.id,
            enrolled_by_post_id=principal.post.id,
            consent_by_officer_id=principal.officer.id,
            **vars(row.details),
        )
        for row in report.ready
    ]
    db.session.add_all(contacts)
    db.session.flush()
    for contact in contacts:
        roster.index_contact(contact)
    report.created = len(contacts)
    report.committed = True
    audit.record(
        "roster.imported",
        actor=principal,
        unit=principal.unit,
        detail={
            "format": report.file_format,
            "rows": report.rows,
            "created": report.created,
            "already_enrolled": len(report.already),
            "places": len({row.place.id for row in report.ready}),
        },
    )
    return report


# ---- the template --------------------------------------------------------------------------

TEMPLATE_NOTES = {
    "en": (
        "One row per contact. Required: place_lgd_code, name, mobile, category, consent_date.",
        "place_lgd_code: the LGD code of a village or ward of your station (ASP / SP: of the "
        "district).",
        "mobile: 10 digits, with or without 0, 91 or +91. Keep the column formatted as Text.",
        "category: a code or name from the categories sheet. whatsapp: yes / no.",
        "gender: female, male, transgender or empty. consent_date: YYYY-MM-DD or DD-MM-YYYY.",
        "consent_language: hi or en. Imported contacts wait for the ASP's approval.",
        f"At most {MAX_ROWS:,} rows and {MAX_FILE_BYTES // (1024 * 1024)} MB per file.",
    ),
    "hi": (
        "हर संपर्क के लिए एक पंक्ति। आवश्यक: स्थान एलजीडी कोड, नाम, मोबाइल, श्रेणी, सहमति तिथि।",
        "स्थान एलजीडी कोड: आपके थाने के गाँव या वार्ड का एलजीडी कोड (एएसपी / एसपी: ज़िले का)।",
        "मोबाइल: 10 अंक, 0, 91 या +91 के साथ या बिना। कॉलम का प्रारूप टेक्स्ट रखें।",
        "श्रेणी: श्रेणियाँ शीट से कोड या नाम। व्हाट्सऐप: हाँ / नहीं।",
        "लिंग: महिला, पुरुष, ट्रांसजेंडर या खाली। सहमति तिथि: YYYY-MM-DD या DD-MM-YYYY।",
        "सहमति भाषा: hi या en। आयात किए गए संपर्क एएसपी के अनुमोदन की प्रतीक्षा करते हैं।",
        f"एक फ़ाइल में अधिकतम {MAX_ROWS:,} पंक्तियाँ और {MAX_FILE_BYTES // (1024 * 1024)} MB।",
    ),
}
TEMPLATE_LANGUAGES = ("en", "hi")
_TEXT_COLUMNS = {"place_lgd_code", "mobile", "mobile_alt", "consent_date"}


def template_headers(language: str) -> list[str]:
    """The header row of the template: the English keys, or the Hindi headers."""
    return [column.hindi if language == "hi" else column.key for column in COLUMNS]


def template_file(file_format: str, language: str) -> tuple[str, str, bytes]:
    """(filename, mimetype, content) of the empty import template."""
    if file_format not in FORMATS or language not in TEMPLATE_LANGUAGES:
        raise ValueError("unknown template")
    filename = f"cplan-contacts-template-{language}.{file_format}"
    headers = template_headers(language)
    if file_format == "csv":
        return filename, CSV_MIMETYPE, csv_file(headers, [])
    return filename, XLSX_MIMETYPE, _template_xlsx(headers, language)


def _template_xlsx(headers: list[str], language: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "contacts" if language == "en" else "संपर्क"
    sheet.append(headers)
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = 22
        if column.key in _TEXT_COLUMNS:
            # A Text column, so Excel keeps every digit a person types (no 9.87654E+09).
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    categories = workbook.create_sheet("categories" if language == "en" else "श्रेणियाँ")
    categories.append(["code", "English", "हिंदी"])
    for category, (english, hindi) in CATEGORY_NAMES.items():
        categories.append([category.value, english, hindi])
    notes = workbook.create_sheet("notes" if language == "en" else "निर्देश")
    for line in TEMPLATE_NOTES[language]:
        notes.append([line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
