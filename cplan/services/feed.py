"""The control rooms' pull feed of new and changed incidents (UP-112): every change once, in
order, without gaps, however writers interleave.

A trigger writes a row to ``incident_changes`` for each INSERT or UPDATE of an incident
(``cplan.models.api``), in the writer's own transaction. Ids are handed out when a row is
written, not when its transaction commits, so a reader that simply followed ids could see
change 11 (committed) before change 10 (still being written) and move its cursor past 10 for
good. The feed therefore reads in (transaction id, row id) order, and on PostgreSQL only the
changes of transactions older than the oldest one of this database still running in the
statement's snapshot (``_WATERMARK``): those are final, every later transaction has a larger
id, so nothing can appear behind the cursor afterwards. On SQLite writers take turns
(transactions begin IMMEDIATE), so ids are in commit order already and every row is final.

The cursor is opaque to the client: ``<txid>.<id>`` of the last change it was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, literal, select, text, tuple_

from cplan.extensions import db
from cplan.models.api import IncidentChange
from cplan.models.incidents import Incident, IncidentPlace
from cplan.services import incidents
from cplan.services.errors import DomainError
from cplan.services.principal import Principal

CURSOR = re.compile(r"([0-9]{1,20})\.([0-9]{1,20})")
MAX_LIMIT = 500


class BadCursor(DomainError):
    """The cursor is not one the feed gave."""


@dataclass(frozen=True)
class Change:
    cursor: str
    changed_at: datetime
    incident: dict  # ``incident_summary``


# The columns ``incident_summary`` reads: the feed selects only these (a catching-up poll
# carries hundreds of incidents; whole ORM objects cost more than the query).
SUMMARY_COLUMNS = (
    Incident.id,
    Incident.reference,
    Incident.kind,
    Incident.severity,
    Incident.source,
    Incident.status,
    Incident.version,
    Incident.summary,
    Incident.confidential,
    Incident.up112_number,
    Incident.district_id,
    Incident.occurred_at,
    Incident.reported_at,
    Incident.updated_at,
)


def incident_summary(incident, place_ids=None) -> dict:
    """What the API, the feed and the webhooks say of an incident (no names, no numbers):
    ``incident`` an ``Incident``, or a row of ``SUMMARY_COLUMNS`` with its ``place_ids``."""
    if place_ids is None:
        place_ids = [link.place_id for link in incident.places]
    return {
        "id": incident.id,
        "reference": incident.reference,
        "kind": incident.kind.value,
        "severity": incident.severity.value,
        "source": incident.source.value,
        "status": incident.status.value,
        "version": incident.version,
        "summary": incident.summary,
        "confidential": incident.confidential,
        "up112_number": incident.up112_number,
        "district_id": incident.district_id,
        "place_ids": sorted(place_ids),
        "occurred_at": incident.occurred_at,
        "reported_at": incident.reported_at,
        "updated_at": incident.updated_at,
    }


def cursor_of(change: IncidentChange) -> str:
    return f"{change.txid}.{change.id}"


def parse_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return (-1, 0)
    match = CURSOR.fullmatch(cursor)
    if match is None:
        raise BadCursor("not a feed cursor")
    return int(match.group(1)), int(match.group(2))


# The transaction id below which every change is final: the oldest transaction still running
# in the snapshot of this very statement, leaving out those that pg_stat_activity shows running
# in *another* database of the server (an xid belongs to one database for good, so leaving
# those out is safe even when the view lags: an xid it does not show, finished or not, still
# holds the feed back). With none running: the snapshot's xmax.
_WATERMARK = """(
WITH s AS (SELECT pg_current_snapshot() AS snap)
SELECT coalesce(
  (SELECT min(x::text::bigint) FROM s, pg_snapshot_xip(s.snap) AS x
    WHERE (x::text::bigint % 4294967296) NOT IN (
      SELECT backend_xid::text::bigint FROM pg_stat_activity
      WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database())),
  (SELECT pg_snapshot_xmax(snap)::text::bigint FROM s))
)"""


def _final_below():
    """The transaction id below which every change is final (None: all are, on SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return text(_WATERMARK)
    return None


def latest_cursor() -> str | None:
    """The cursor of the newest final change (a new follower starts there: from now on)."""
    statement = select(IncidentChange).order_by(
        IncidentChange.txid.desc(), IncidentChange.id.desc()
    )
    final_below = _final_below()
    if final_below is not None:
        statement = statement.where(IncidentChange.txid < final_below)
    change = db.session.scalar(statement.limit(1))
    return cursor_of(change) if change is not None else None


def changes(principal: Principal, after: str | None, limit: int = 100) -> list[Change]:
    """The changes after ``after`` of incidents ``principal`` may see, oldest first; an incident
    changed several times within the page appears once, at its last change."""
    txid, change_id = parse_cursor(after)
    limit = max(1, min(limit, MAX_LIMIT))
    final_below = _final_below()
    if final_below is None:
        # SQLite: every txid is 0 and ids are in commit order; a plain range on the primary
        # key (a row-value comparison would scan the index from the start).
        after_condition = IncidentChange.id > change_id if txid <= 0 else false()
        order = (IncidentChange.id,)
    else:
        after_condition = tuple_(IncidentChange.txid, IncidentChange.id) > tuple_(
            literal(txid), literal(change_id)
        )
        order = (IncidentChange.txid, IncidentChange.id)
    statement = (
        select(
            IncidentChange.id.label("change_id"),
            IncidentChange.txid,
            IncidentChange.changed_at,
            *SUMMARY_COLUMNS,
        )
        .join(Incident, Incident.id == IncidentChange.incident_id)
        .where(after_condition, incidents.visible_incidents_condition(principal))
        .order_by(*order)
        .limit(limit)
    )
    if final_below is not None:
        statement = statement.where(IncidentChange.txid < final_below)
    rows = db.session.execute(statement).all()
    last_of = {row.id: row.change_id for row in rows}
    places: dict[int, list[int]] = {incident_id: [] for incident_id in last_of}
    if places:
        for incident_id, place_id in db.session.execute(
            select(IncidentPlace.incident_id, IncidentPlace.place_id).where(
                IncidentPlace.incident_id.in_(list(places))
            )
        ):
            places[incident_id].append(place_id)
    return [
        Change(
            f"{row.txid}.{row.change_id}",
            row.changed_at,
            incident_summary(row, places[row.id]),
        )
        for row in rows
        if last_of[row.id] == row.change_id
    ]
