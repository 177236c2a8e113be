"""The incident feed as a CSV file, for the control room's shift reports.

The file holds what the feed shows for the same filters (scope and confidentiality applied by
``incidents.feed_query``), one row per incident, in the reader's language, times in IST. It
names no citizen: what contacts said stays on the timeline, which only the incident page and its
printed report show. Cells are made formula-safe as for roster exports (``tables.inert``).
Each export writes one ``incident.feed_exported`` audit event (filters and row count) in the
caller's transaction. A file is capped at ``EXPORT_LIMIT`` incidents: above it the export is
refused with the count, so a file never silently leaves incidents out.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cplan.extensions import db
from cplan.formats import file_datetime
from cplan.models.geo import Place
from cplan.models.incidents import Incident, IncidentPlace
from cplan.pipelines.tables import csv_file
from cplan.services import audit, incidents
from cplan.services.errors import DomainError
from cplan.services.incidents import FeedFilters, label
from cplan.services.permissions import Permission
from cplan.services.principal import Principal

EXPORT_LIMIT = 20_000

HEADERS = (
    _l("Reference"),
    _l("UP-112 event number"),
    _l("District"),
    _l("Places"),
    _l("Police stations"),
    _l("Kind"),
    _l("Severity"),
    _l("Source"),
    _l("Status"),
    _l("Happened (IST)"),
    _l("Reported (IST)"),
    _l("First call (IST)"),
    _l("Verdict (IST)"),
    _l("Minutes to first call"),
    _l("Minutes to verdict"),
    _l("Overdue"),
    _l("Being handled by"),
    _l("Reviewed (IST)"),
    _l("Reviewed by"),
    _l("Summary"),
)


class ExportRefused(DomainError):
    """Too many incidents for one file, or no permission; the message says why."""


def _ist(value: datetime | None) -> str:
    return file_datetime(value)


def _minutes(value) -> str:
    return str(int(value.total_seconds() // 60)) if value is not None else ""


def _row(incident: Incident, language: str, yes: str, no: str) -> list[str]:
    places = [link.place for link in incident.places]
    stations = {place.station.display_name(language) for place in places if place.station}
    times = incidents.response_times(incident)
    return [
        incident.reference,
        incident.up112_number or "",
        incident.district.display_name(language),
        "; ".join(place.display_name(language) for place in places),
        "; ".join(sorted(stations)),
        label("kind", incident.kind),
        label("severity", incident.severity),
        label("source", incident.source),
        label("status", incident.status),
        _ist(incident.occurred_at),
        _ist(incident.reported_at),
        _ist(incident.first_call_at),
        _ist(incident.verdict_at),
        _minutes(times.to_first_call),
        _minutes(times.to_verdict),
        yes if times.overdue else no,
        incident.handling_by.display_name(language) if incident.handling_by else "",
        _ist(incident.reviewed_at),
        incident.reviewed_by.display_name(language) if incident.reviewed_by else "",
        incident.summary,
    ]


def feed_csv(principal: Principal, filters: FeedFilters, language: str = "en") -> tuple[bytes, int]:
    """The filtered feed as CSV bytes (UTF-8 with a byte-order mark for Excel) and its row count."""
    if not principal.can(Permission.VIEW_INCIDENTS):
        raise ExportRefused(_l("Your post cannot export incidents."))
    query = incidents.feed_query(principal, filters)
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if count > EXPORT_LIMIT:
        raise ExportRefused(
            _l(
                "%(count)s incidents match: narrow the filters to at most %(limit)s per file.",
                count=f"{count:,}",
                limit=f"{EXPORT_LIMIT:,}",
            )
        )
    rows = db.session.scalars(
        query.options(
            selectinload(Incident.district),
            selectinload(Incident.handling_by),
            selectinload(Incident.reviewed_by),
            selectinload(Incident.places)
            .selectinload(IncidentPlace.place)
            .selectinload(Place.station),
        )
    )
    yes, no = ("हाँ", "नहीं") if language == "hi" else ("yes", "no")
    data = csv_file(
        [str(header) for header in HEADERS],
        (_row(incident, language, yes, no) for incident in rows),
    )
    audit.record(
        "incident.feed_exported",
        actor=principal,
        unit=principal.unit,
        detail={"rows": count, "filters": _filters_detail(filters)},
    )
    return data, count


def _filters_detail(filters: FeedFilters) -> dict:
    detail = {}
    for name in ("district_id", "kind", "status", "severity", "since", "until"):
        value = getattr(filters, name)
        if value is not None and value != "":
            detail[name] = (
                value.isoformat()
                if isinstance(value, datetime)
                else str(getattr(value, "value", value))
            )
    return detail
