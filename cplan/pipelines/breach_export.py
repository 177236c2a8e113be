"""A breach's report as a CSV file: one row per item, the item and its value, for the report to
the Data Protection Board and CERT-In (times in IST, ``12 Feb 2026 14:35``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cplan.formats import file_datetime, file_name_stamp
from cplan.models.breaches import Breach
from cplan.pipelines.tables import csv_file
from cplan.services import breaches
from cplan.services.principal import Principal

ITEMS = (
    ("found_at", _l("Found at (IST)")),
    ("summary", _l("What happened")),
    ("data_affected", _l("Personal data affected")),
    ("people_affected", _l("People affected")),
    ("measures", _l("Measures taken")),
    ("cert_in_reported_at", _l("Reported to CERT-In at (IST)")),
    ("board_told_at", _l("Board told at (IST)")),
    ("people_told_at", _l("People affected told at (IST)")),
    ("board_report_at", _l("Full report to the Board at (IST)")),
)


def report_csv(principal: Principal, breach: Breach) -> tuple[str, bytes]:
    """The file name and CSV bytes of ``breach``'s report; the download is audited."""
    rows = [[str(_l("Recorded by")), breach.recorded_post.title_en if breach.recorded_post else ""]]
    rows.append([str(_l("Recording office")), breach.unit.name_en])
    for name, label in ITEMS:
        value = getattr(breach, name)
        if hasattr(value, "tzinfo"):
            value = file_datetime(value)
        rows.append([str(label), "" if value is None else str(value)])
    rows.append([str(_l("Full report due by (IST)")), file_datetime(breach.board_report_due)])
    breaches.note_export(principal, breach)
    name = f"breach-{breach.id}-{file_name_stamp(breach.found_at)}.csv"
    return name, csv_file([str(_l("Report item")), str(_l("Report value"))], rows)
