"""Sensitive places of a district from a file (CSV or XLSX), for one election: the SP office's
list as the district sends it, checked in a dry run and committed all or nothing.

Columns: ``lgd_code`` (or ``place_name`` with ``police_station`` for a place without a code;
given both, the code decides), ``level`` (``sensitive`` / ``hyper_sensitive`` /
``hyper_sensitive_plus``, or the Hindi संवेदनशील / अति संवेदनशील / अति संवेदनशील प्लस),
``reasons`` (codes of the fixed list, separated by ``;`` or ``,``), and optionally ``note``,
``reference`` and ``booth``. A place named by name must be the only place of that name (in
either script) at that station.

Every problem is reported by file row (the header is row 1) and column: a place not in the
district, a name that matches none or several, an unknown level or reason, the same place and
booth twice. The commit takes the same file again (its SHA-256 rides in a hidden field) and
grades every row or none, each one audited as a grade set from its page is
(``cplan.services.sensitive_places.set_grade``), plus one event for the file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from cplan.extensions import db
from cplan.models.elections import Election, SensitivityLevel, SensitivityReason
from cplan.models.geo import Place, Unit
from cplan.pipelines import roster_import, tables
from cplan.pipelines.tables import Column, FileReport, Problem, Table, TableFileError, file_sha256
from cplan.pipelines.tables import text as cell_text
from cplan.services import audit, elections, sensitive_places
from cplan.services.phone import DEVANAGARI_DIGITS
from cplan.services.principal import Principal

MAX_FILE_BYTES = roster_import.MAX_FILE_BYTES
MAX_ROWS = roster_import.MAX_ROWS
GradesFileError = TableFileError
IMPORTED = "elections.sensitive_places_imported"

COLUMNS = (
    Column("lgd_code", "एलजीडी कोड"),
    Column("place_name", "स्थान का नाम"),
    Column("police_station", "थाना"),
    Column("level", "श्रेणी", required=True),
    Column("reasons", "कारण", required=True),
    Column("note", "टिप्पणी"),
    Column("reference", "संदर्भ"),
    Column("booth", "मतदान केंद्र"),
)
_LEVELS = {
    **{level.value: level for level in SensitivityLevel},
    **{tables.loose(text): level for level, text in elections.LEVEL_HINDI.items()},
    "sensitive": SensitivityLevel.SENSITIVE,
    "hyper sensitive": SensitivityLevel.HYPER_SENSITIVE,
    "hyper sensitive plus": SensitivityLevel.HYPER_SENSITIVE_PLUS,
}
_REASON_SPLIT = re.compile(r"[;,|]")


@dataclass
class ReadyRow:
    row: int
    place: Place
    level: SensitivityLevel
    reasons: list[SensitivityReason]
    note: str
    reference: str
    booth: str


@dataclass
class ImportReport(FileReport):
    columns = COLUMNS

    ready: list[ReadyRow] = field(default_factory=list)
    graded: int = 0


def _check_header(keys: set[str]) -> None:
    if "lgd_code" not in keys and "place_name" not in keys:
        raise GradesFileError(
            _l("The header needs an lgd_code column, or place_name with police_station."), row=1
        )


def read_table(filename: str, data: bytes) -> Table:
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
        (number, {key: unicodedata.normalize("NFC", cell_text(v)) for key, v in values.items()})
        for number, values in table.rows
    ]
    return table


def _district_places(principal: Principal, district: Unit) -> list[Place]:
    return list(
        db.session.scalars(
            select(Place)
            .options(joinedload(Place.station))
            .where(Place.district_id == district.id, principal.unit.covers(Place.unit_path))
        )
    )


def check(principal: Principal, district: Unit, table: Table, report: ImportReport):
    report.rows = len(table.rows)
    report.ignored_columns = table.ignored_columns
    headers = table.headers_by_key
    places = _district_places(principal, district)
    by_code = {place.lgd_code: place for place in places if place.lgd_code}
    by_station_name: dict[tuple[str, str], list[Place]] = {}
    for place in places:
        if place.station is None:
            continue
        stations = {tables.loose(place.station.name_en), tables.loose(place.station.name_hi)}
        names = {tables.loose(place.name_en), tables.loose(place.name_hi)}
        for station in stations - {""}:
            for name in names - {""}:
                by_station_name.setdefault((station, name), []).append(place)
    first_row: dict[tuple[int, str], int] = {}

    for number, values in table.rows:
        before = len(report.problems)

        def problem(key: str, message, number=number) -> None:
            report.problems.append(Problem(number, headers.get(key, key), message))

        code = values.get("lgd_code", "").translate(DEVANAGARI_DIGITS).strip()
        name = values.get("place_name", "")
        station = values.get("police_station", "")
        place = None
        if code:
            place = by_code.get(code)
            if place is None:
                problem(
                    "lgd_code",
                    _l(
                        "No place with LGD code %(code)s in %(district)s district.",
                        code=code[:20],
                        district=district.name_en,
                    ),
                )
        elif name and station:
            found = by_station_name.get((tables.loose(station), tables.loose(name)), [])
            if len(found) == 1:
                place = found[0]
            elif not found:
                problem(
                    "place_name",
                    _l(
                        "No place called %(name)s at %(station)s police station.",
                        name=name[:80],
                        station=station[:80],
                    ),
                )
            else:
                problem(
                    "place_name",
                    _l(
                        "%(count)s places are called %(name)s at that station: give the LGD code.",
                        count=len(found),
                        name=name[:80],
                    ),
                )
        else:
            problem(
                "lgd_code" if "lgd_code" in headers else "place_name",
                _l("Give the place's LGD code, or its name and police station."),
            )

        level = _LEVELS.get(tables.loose(values.get("level", "")))
        if level is None:
            problem(
                "level",
                _l(
                    "The level must be sensitive, hyper_sensitive or hyper_sensitive_plus "
                    "(संवेदनशील, अति संवेदनशील, अति संवेदनशील प्लस)."
                ),
            )
        reasons = []
        try:
            reasons = sensitive_places.clean_reasons(
                [part for part in _REASON_SPLIT.split(values.get("reasons", "")) if part.strip()]
            )
        except sensitive_places.SensitivityError as error:
            problem("reasons", error.message)
        cleaned = {}
        for key, limit in (
            ("note", sensitive_places.MAX_NOTE_LENGTH),
            ("reference", sensitive_places.MAX_REFERENCE_LENGTH),
            ("booth", sensitive_places.MAX_BOOTH_LENGTH),
        ):
            try:
                cleaned[key] = sensitive_places.clean_text(values.get(key, ""), limit, key)
            except sensitive_places.SensitivityError as error:
                problem(key, error.message)
        if place is not None and "booth" in cleaned:
            key = (place.id, cleaned["booth"])
            if key in first_row:
                problem(
                    "lgd_code" if code else "place_name",
                    _l(
                        "The same place is already on row %(row)s of this file.",
                        row=first_row[key],
                    ),
                )
            else:
                first_row[key] = number
        if len(report.problems) > before:
            continue
        report.ready.append(ReadyRow(number, place, level, reasons, **cleaned))
    return report


def dry_run(
    principal: Principal, election: Election, district: Unit, filename: str, data: bytes
) -> ImportReport:
    """Read and check the file; writes nothing. Raises ``GradesFileError`` for a bad file."""
    if not sensitive_places.may_grade(principal):
        raise GradesFileError(_l("Only the SP office grades places for an election."))
    table = read_table(filename, data)
    report = ImportReport(
        filename=filename, file_format=table.file_format, sha256=file_sha256(data)
    )
    return check(principal, district, table, report)


def commit(
    principal: Principal,
    election: Election,
    district: Unit,
    filename: str,
    data: bytes,
    expected_sha256: str | None = None,
) -> ImportReport:
    """Check the file again and, when no row has a problem, grade every row. All or nothing."""
    report = dry_run(principal, election, district, filename, data)
    report.check_same_file(expected_sha256)
    if not report.ok:
        return report
    for row in report.ready:
        sensitive_places.set_grade(
            principal,
            election,
            row.place,
            level=row.level,
            reasons=row.reasons,
            note=row.note,
            reference=row.reference,
            booth=row.booth,
        )
    report.graded = len(report.ready)
    report.committed = True
    audit.record(
        IMPORTED,
        actor=principal,
        unit=district,
        detail={
            "election_id": election.id,
            "rows": report.rows,
            "graded": report.graded,
            "sha256": report.sha256,
        },
    )
    return report
