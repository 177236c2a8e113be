"""A district's progress in a verification drive as a CSV file, for the SP office's reports.

One row per police station and village grade, from the drive's counters (never the tasks),
then the district's total. It names no citizen. Cells are formula-safe (``tables.csv_file``).
Each export writes one ``drive.progress_exported`` audit event in the caller's transaction.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from cplan.extensions import db
from cplan.models.drives import DriveProgress, VerificationDrive
from cplan.models.geo import Unit, UnitKind
from cplan.pipelines.tables import csv_file
from cplan.services import audit, drives
from cplan.services.errors import NotInScope
from cplan.services.principal import Principal

HEADERS = (
    _l("Police station"),
    _l("Village grade"),
    _l("Contacts to verify"),
    _l("Verified so far"),
    _l("Confirmed"),
    _l("Details changed"),
    _l("Unreachable"),
    _l("No longer suitable"),
    _l("Still to verify"),
    _l("Overdue"),
)
COUNTS = ("tasks", "done", "confirmed", "changed", "unreachable", "unsuitable", "pending")


def progress_csv(
    principal: Principal, drive: VerificationDrive, district: Unit, language: str
) -> tuple[bytes, int]:
    """The file and its number of rows (stations x grades, then the total)."""
    if district.kind != UnitKind.DISTRICT or not principal.unit.contains(district):
        raise NotInScope()
    progress = drives.progress_of(principal, drive, district)
    table = DriveProgress
    rows = db.session.execute(
        select(
            table.unit_path,
            table.sensitivity,
            *[
                func.sum(getattr(table, name)).label(name)
                for name in (*drives.COUNTER_NAMES, "attempted")
            ],
        )
        .where(table.drive_id == drive.id, district.covers(table.unit_path))
        .group_by(table.unit_path, table.sensitivity)
    ).all()
    stations = {
        unit.path: unit
        for unit in db.session.scalars(
            select(Unit).where(Unit.path.in_({row.unit_path for row in rows}))
        )
    }
    lines = []
    for row in sorted(
        rows,
        key=lambda r: (
            stations[r.unit_path].name_en if r.unit_path in stations else "",
            -r.sensitivity,
        ),
    ):
        tally = drives.Tally()
        tally.add(row)
        unit = stations.get(row.unit_path)
        lines.append(
            [
                unit.display_name(language) if unit else "",
                str(drives.SENSITIVITY_LABELS.get(row.sensitivity, row.sensitivity)),
                *_figures(tally, progress.overdue),
            ]
        )
    lines.append(
        [
            str(_l("Whole district")),
            "",
            *_figures(progress.total, progress.overdue),
        ]
    )
    audit.record(
        "drive.progress_exported",
        actor=principal,
        target=drive,
        unit=district,
        detail={"rows": len(lines)},
    )
    return csv_file([str(header) for header in HEADERS], lines), len(lines)


def _figures(tally: drives.Tally, overdue: bool) -> list[str]:
    values = [getattr(tally, name) for name in COUNTS]
    return [str(value) for value in values] + [str(tally.pending if overdue else 0)]
