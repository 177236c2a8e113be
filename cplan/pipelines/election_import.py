"""An election's phases from a file: one row per district, with its phase and poll date
(CSV or XLSX, columns ``phase``, ``poll_date``, ``district_lgd_code``; ``district`` may be
there for people to read and is ignored). The state control room creates the election first,
then uploads the file on its page.

The dry run reads the whole file and reports every problem by file row (the header is row 1)
and column: a phase that is not a number from 1 to 9, a date that cannot be read or falls
before the notification, an LGD code that names no district, a district given twice or already
voting in another phase, one phase given two poll dates. The commit takes the same file again
(its SHA-256 rides in a hidden field), checks it again and adds every row or none
(``cplan.services.elections.add_phases``, one audit event). Rows already in the election as
they are change nothing, so the same file can be uploaded twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cplan.extensions import db
from cplan.models.elections import Election
from cplan.models.geo import Unit, UnitKind
from cplan.pipelines import roster_import, tables
from cplan.pipelines.tables import Column, FileReport, Problem, Table, TableFileError, file_sha256
from cplan.pipelines.tables import text as cell_text
from cplan.services import elections
from cplan.services.phone import DEVANAGARI_DIGITS
from cplan.services.principal import Principal

MAX_FILE_BYTES = roster_import.MAX_FILE_BYTES
MAX_ROWS = 1000  # 75 districts a poll; a generous margin
PhasesFileError = TableFileError

COLUMNS = (
    Column("phase", "चरण", required=True),
    Column("poll_date", "मतदान तिथि", required=True),
    Column("district_lgd_code", "ज़िला एलजीडी कोड", required=True),
    Column("district", "ज़िला", read=False),
)
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


@dataclass
class ReadyRow:
    row: int
    phase: int
    poll_date: date
    district: Unit


@dataclass
class ImportReport(FileReport):
    """What a dry run found, or what a commit did."""

    columns = COLUMNS

    ready: list[ReadyRow] = field(default_factory=list)
    unchanged: int = 0
    added: int = 0


def parse_date(value) -> date | None:
    """A cell as a date: a spreadsheet date, ``2026-04-15`` or ``15/04/2026`` (day first, as
    India writes it; ``-`` and ``.`` also separate); None when it cannot be read."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value).translate(DEVANAGARI_DIGITS)
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _NUMERIC_DATE.fullmatch(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def read_table(filename: str, data: bytes) -> Table:
    """Read and shape-check the file (``tables.read_table``), or raise ``PhasesFileError``."""
    return tables.read_table(
        filename,
        data,
        COLUMNS,
        max_bytes=MAX_FILE_BYTES,
        max_rows=MAX_ROWS,
        no_rows=_l("The file has a header but no rows of districts."),
    )


def check(election: Election, table: Table, report: ImportReport) -> ImportReport:
    """Check every row against the rules, the districts and the election (reads only)."""
    report.rows = len(table.rows)
    report.ignored_columns = table.ignored_columns
    headers = table.headers_by_key
    districts = {
        unit.code: unit
        for unit in db.session.scalars(
            select(Unit).where(Unit.kind == UnitKind.DISTRICT, Unit.code.is_not(None))
        )
    }
    dates = {phase.number: (phase.poll_date, None) for phase in election.phases}
    in_election = elections.existing_district_phases(election)
    first_row: dict[int, int] = {}

    for number, values in table.rows:
        before = len(report.problems)

        def problem(key: str, message, number=number) -> None:
            report.problems.append(Problem(number, headers.get(key, key), message))

        phase_text = cell_text(values.get("phase")).translate(DEVANAGARI_DIGITS)
        phase = int(phase_text) if re.fullmatch(r"[0-9]{1,2}", phase_text) else None
        if phase is None or not 1 <= phase <= elections.MAX_PHASES:
            problem(
                "phase",
                _l("Give the phase as a number from 1 to %(count)s.", count=elections.MAX_PHASES),
            )
            phase = None

        poll_date = parse_date(values.get("poll_date"))
        if poll_date is None:
            problem(
                "poll_date",
                _l(
                    "Write the date as 2026-04-15 or 15/04/2026, not %(value)s.",
                    value=cell_text(values.get("poll_date"))[:20] or "–",
                ),
            )
        elif election.notified_on and poll_date < election.notified_on:
            problem(
                "poll_date",
                _l(
                    "The poll date is before the election was notified (%(notified)s).",
                    notified=election.notified_on.isoformat(),
                ),
            )
            poll_date = None
        elif phase is not None:
            known, row = dates.setdefault(phase, (poll_date, number))
            if known != poll_date:
                where = _l("on row %(row)s", row=row) if row else _l("in the election already")
                problem(
                    "poll_date",
                    _l(
                        "Phase %(phase)s polls on %(date)s %(where)s.",
                        phase=phase,
                        date=known.isoformat(),
                        where=where,
                    ),
                )

        code = cell_text(values.get("district_lgd_code")).translate(DEVANAGARI_DIGITS)
        district = districts.get(code) if code else None
        if not code:
            problem("district_lgd_code", _l("Give the district's LGD code."))
        elif district is None:
            problem(
                "district_lgd_code",
                _l("No district has the LGD code %(code)s.", code=code[:20]),
            )
        elif district.id in first_row:
            problem(
                "district_lgd_code",
                _l(
                    "%(district)s is already on row %(row)s of this file; a district votes in "
                    "one phase.",
                    district=district.name_en,
                    row=first_row[district.id],
                ),
            )
            district = None
        else:
            first_row[district.id] = number
            other = in_election.get(district.id)
            if other is not None and phase is not None and other != phase:
                problem(
                    "district_lgd_code",
                    _l(
                        "%(district)s already votes in phase %(phase)s of this election.",
                        district=district.name_en,
                        phase=other,
                    ),
                )
        if len(report.problems) > before:
            continue
        if in_election.get(district.id) == phase:
            report.unchanged += 1
        else:
            report.ready.append(ReadyRow(number, phase, poll_date, district))
    return report


def dry_run(principal: Principal, election: Election, filename: str, data: bytes) -> ImportReport:
    """Read and check the file; writes nothing. Raises ``PhasesFileError`` for a bad file."""
    if not elections.may_manage(principal):
        raise PhasesFileError(_l("Only the state control room creates elections and phases."))
    table = read_table(filename, data)
    report = ImportReport(
        filename=filename, file_format=table.file_format, sha256=file_sha256(data)
    )
    return check(election, table, report)


def commit(
    principal: Principal,
    election: Election,
    filename: str,
    data: bytes,
    expected_sha256: str | None = None,
) -> ImportReport:
    """Check the file again and, when no row has a problem, add every phase and district.
    All or nothing; flushes only."""
    report = dry_run(principal, election, filename, data)
    report.check_same_file(expected_sha256)
    if not report.ok:
        return report
    plans: dict[int, elections.PhasePlan] = {}
    for row in report.ready:
        plan = plans.setdefault(row.phase, elections.PhasePlan(row.phase, row.poll_date))
        plan.districts.append(row.district)
    report.added = elections.add_phases(
        principal, election, list(plans.values()), source=f"file:{report.sha256[:12]}"
    )
    report.committed = True
    return report
