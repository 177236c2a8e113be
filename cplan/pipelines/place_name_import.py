"""Correcting many place names at once: a CSV or XLSX file per district, checked in a dry run
and committed all or nothing, exactly as roster imports are (``cplan.pipelines.roster_import``).

The district's template is its list of places with today's names (``template_file``): people
fix the spellings that are wrong and upload the file. Each row names a place by ``lgd_code`` or
``natural_key`` (wards and code-less parcels have only the key; given both, they must name the
same place) and gives ``name_en`` and ``name_hi``; a blank cell, or one equal to today's name,
leaves that name as it is, so rows nobody touched change nothing. The template's other columns
(kind, police station, whether the Hindi is generated) are there to read and are ignored.

The dry run reads the whole file and reports every problem by file row (1-based; the header is
row 1) and column: a place that is not in the district (or not in the post's scope: the same
words, so nothing leaks), a place given twice, a spelling that breaks the rules of
``cplan.services.place_names``. The commit takes the same file again (its SHA-256 from the dry
run rides in a hidden field), checks it again inside the transaction, and corrects every row or
none. Limits as for roster imports: 2 MB, 5,000 rows (a district has at most about 4,300
places), UTF-8 CSV or XLSX.

Audit: one ``geo.place_renamed`` event per place corrected (the place's name history reads
them, as for a correction from the place page) and one ``geo.place_names_imported`` event per
committed file with the counts.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.models.geo import Place, Unit, UnitKind
from cplan.pipelines import roster_import, tables
from cplan.pipelines.tables import (
    CSV_MIMETYPE,
    XLSX_MIMETYPE,
    Column,
    FileReport,
    Problem,
    Table,
    TableFileError,
    csv_file,
    file_sha256,
    inert,
)
from cplan.pipelines.tables import text as cell_text
from cplan.services import audit, place_names, search
from cplan.services.errors import NotInScope
from cplan.services.phone import DEVANAGARI_DIGITS
from cplan.services.principal import Principal
from cplan.services.scope import get_in_scope

# The file rules are the roster import's: one reader, one set of limits.
MAX_FILE_BYTES = roster_import.MAX_FILE_BYTES
MAX_ROWS = roster_import.MAX_ROWS
FORMATS = roster_import.FORMATS
NamesFileError = TableFileError
IMPORTED = "geo.place_names_imported"
TEMPLATE_LANGUAGES = ("en", "hi")


COLUMNS = (
    Column("lgd_code", "एलजीडी कोड"),
    Column("natural_key", "स्थान कुंजी"),
    Column("kind", "प्रकार", read=False),
    Column("police_station", "थाना", read=False),
    Column("name_en", "अंग्रेज़ी नाम"),
    Column("name_hi", "हिंदी नाम"),
    Column("hindi_generated", "हिंदी नाम कंप्यूटर से", read=False),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
KIND_NAMES = {
    "village": ("village", "गाँव"),
    "town": ("town", "नगर"),
    "ward": ("ward", "वार्ड / मोहल्ला"),
}


@dataclass
class ReadyRow:
    """A row that corrects a place: the new names and whether the Hindi stays generated."""

    row: int
    place: Place
    name_en: str
    name_hi: str
    generated: bool


@dataclass
class ImportReport(FileReport):
    """What a dry run found, or what a commit did."""

    columns = COLUMNS

    ready: list[ReadyRow] = field(default_factory=list)
    unchanged: int = 0
    corrected: int = 0


# ---- reading the file ------------------------------------------------------------------------


def _check_header(keys: set[str]) -> None:
    if "lgd_code" not in keys and "natural_key" not in keys:
        raise NamesFileError(
            _l(
                "The header needs an lgd_code or a natural_key column to name each "
                "place. Download the district's list to see the expected columns."
            ),
            row=1,
        )
    if "name_en" not in keys and "name_hi" not in keys:
        raise NamesFileError(
            _l(
                "The header needs a name_en or a name_hi column. Download the district's "
                "list to see the expected columns."
            ),
            row=1,
        )


def read_table(filename: str, data: bytes) -> Table:
    """Read and shape-check the whole file (``tables.read_table``, the roster import's reader),
    or raise ``NamesFileError``; every value as text."""
    table = tables.read_table(
        filename,
        data,
        COLUMNS,
        max_bytes=MAX_FILE_BYTES,
        max_rows=MAX_ROWS,
        no_rows=_l("The file has a header but no rows of places."),
        check_header=_check_header,
    )
    table.rows = [
        (number, {key: cell_text(value) for key, value in values.items()})
        for number, values in table.rows
    ]
    return table


# ---- checking the rows -----------------------------------------------------------------------


def _district_places(
    principal: Principal, district: Unit
) -> tuple[dict[str, Place], dict[str, Place]]:
    """The district's places the post may see, by LGD code and by natural key (one query)."""
    places = db.session.scalars(
        select(Place).where(
            Place.district_id == district.id, principal.unit.covers(Place.unit_path)
        )
    )
    by_code, by_key = {}, {}
    for place in places:
        if place.lgd_code:
            by_code[place.lgd_code] = place
        by_key[place.natural_key] = place
    return by_code, by_key


def check(principal: Principal, district: Unit, table: Table, report: ImportReport) -> ImportReport:
    """Check every row against the rules and the district's places (reads only)."""
    report.rows = len(table.rows)
    report.ignored_columns = table.ignored_columns
    headers = table.headers_by_key
    by_code, by_key = _district_places(principal, district)
    district_name = district.name_en
    first_row: dict[int, int] = {}

    for number, values in table.rows:
        before = len(report.problems)

        def problem(key: str, message, number=number) -> None:
            report.problems.append(Problem(number, headers.get(key, key), message))

        code = values.get("lgd_code", "").translate(DEVANAGARI_DIGITS).strip()
        natural_key = unicodedata.normalize("NFC", values.get("natural_key", "")).strip()
        place = None
        if not code and not natural_key:
            problem(
                "lgd_code" if "lgd_code" in headers else "natural_key",
                _l("Give the place's LGD code (or its key from the district's list)."),
            )
        else:
            by_code_place = by_code.get(code) if code else None
            by_key_place = by_key.get(natural_key) if natural_key else None
            if code and by_code_place is None:
                problem(
                    "lgd_code",
                    _l(
                        "No place with LGD code %(code)s in %(district)s district.",
                        code=code[:20],
                        district=district_name,
                    ),
                )
            elif natural_key and by_key_place is None:
                problem(
                    "natural_key",
                    _l(
                        "No place with the key %(key)s in %(district)s district.",
                        key=natural_key[:80],
                        district=district_name,
                    ),
                )
            elif by_code_place and by_key_place and by_code_place.id != by_key_place.id:
                problem("natural_key", _l("The LGD code and the key name two different places."))
            else:
                place = by_code_place or by_key_place
        if place is not None:
            if place.id in first_row:
                problem(
                    "lgd_code" if code else "natural_key",
                    _l(
                        "The same place is already on row %(row)s of this file.",
                        row=first_row[place.id],
                    ),
                )
                place = None
            else:
                first_row[place.id] = number

        names = {}
        for key, cleaner in (
            ("name_en", place_names.clean_english),
            ("name_hi", place_names.clean_hindi),
        ):
            try:
                names[key] = cleaner(values.get(key, ""))
            except place_names.PlaceNameError as error:
                problem(key, error.message)
        if len(report.problems) > before or place is None:
            continue
        change = place_names.what_changes(place, place_names.NewNames(**names), checks_both=False)
        if change is None:
            report.unchanged += 1
        else:
            report.ready.append(ReadyRow(number, place, *change))
    return report


# ---- the two steps ---------------------------------------------------------------------------


def get_district(principal: Principal, unit_id: int) -> Unit:
    """The district whose place names the pages correct: one of the principal's subtree, else
    ``NotInScope`` (as for any other kind of unit)."""
    district = get_in_scope(principal, Unit, unit_id)
    if district.kind != UnitKind.DISTRICT:
        raise NotInScope()
    return district


def _require(principal: Principal, district: Unit) -> None:
    """A post that corrects place names, and a district within its subtree (else NotInScope)."""
    if not place_names.may_correct(principal):
        raise NamesFileError(_l("Your post cannot correct place names."))
    if district.kind != UnitKind.DISTRICT or not principal.unit.contains(district):
        raise NotInScope()


def dry_run(principal: Principal, district: Unit, filename: str, data: bytes) -> ImportReport:
    """Read and check the file; writes nothing. Raises ``NamesFileError`` for a bad file."""
    _require(principal, district)
    table = read_table(filename, data)
    report = ImportReport(
        filename=filename, file_format=table.file_format, sha256=file_sha256(data)
    )
    return check(principal, district, table, report)


def commit(
    principal: Principal,
    district: Unit,
    filename: str,
    data: bytes,
    expected_sha256: str | None = None,
) -> ImportReport:
    """Check the file again and, when no row has a problem, correct every place it changes.

    All or nothing: with any problem nothing is changed and the report says why. Flushes only.
    """
    report = dry_run(principal, district, filename, data)
    report.check_same_file(expected_sha256)
    if not report.ok:
        return report
    details = [
        place_names.apply_names(
            row.place, row.name_en, row.name_hi, row.generated, place_names.FILE
        )
        for row in report.ready
    ]
    db.session.flush()
    search.reindex_places(row.place for row in report.ready)
    audit.record_many(
        place_names.RENAMED,
        [(row.place, detail) for row, detail in zip(report.ready, details, strict=True)],
        actor=principal,
    )
    report.corrected = len(report.ready)
    report.committed = True
    audit.record(
        IMPORTED,
        actor=principal,
        unit=district,
        detail={
            "format": report.file_format,
            "rows": report.rows,
            "corrected": report.corrected,
            "unchanged": report.unchanged,
            "sha256": report.sha256,
        },
    )
    return report


# ---- the district's list (the template) ------------------------------------------------------


def template_headers(language: str) -> list[str]:
    return [column.hindi if language == "hi" else column.key for column in COLUMNS]


def template_rows(principal: Principal, district: Unit, language: str) -> list[list[str]]:
    """The district's places the post may see, by station then name, with today's names."""
    _require(principal, district)
    places = db.session.scalars(
        select(Place)
        .options(joinedload(Place.station))
        .where(Place.district_id == district.id, principal.unit.covers(Place.unit_path))
        .order_by(Place.unit_path, Place.name_en, Place.id)
    )
    yes = "हाँ" if language == "hi" else "yes"
    rows = []
    for place in places:
        station = place.station.display_name(language) if place.station else ""
        rows.append(
            [
                place.lgd_code or "",
                place.natural_key,
                KIND_NAMES[place.kind.value][language == "hi"],
                station,
                place.name_en,
                place.name_hi or "",
                yes if place.name_generated else "",
            ]
        )
    return rows


def template_file(
    principal: Principal, district: Unit, file_format: str, language: str
) -> tuple[str, str, bytes]:
    """(filename, mimetype, content) of the district's list of places to correct."""
    if file_format not in FORMATS or language not in TEMPLATE_LANGUAGES:
        raise ValueError("unknown template")
    rows = template_rows(principal, district, language)
    headers = template_headers(language)
    filename = f"cplan-place-names-{district.code or district.id}-{language}.{file_format}"
    if file_format == "csv":
        return filename, CSV_MIMETYPE, csv_file(headers, rows)
    return filename, XLSX_MIMETYPE, _xlsx(headers, rows, language)


def _xlsx(headers: list[str], rows: list[list[str]], language: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("places" if language == "en" else "स्थान")
    for index in range(len(headers)):
        sheet.column_dimensions[chr(ord("A") + index)].width = 26
    bold = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        bold.append(cell)
    sheet.append(bold)
    for row in rows:
        cells = []
        for value in map(inert, row):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text: LGD codes keep their leading zeros
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
