"""Readiness: can this server do its work? Three checks, each answered by one status word.

``database``: a new connection opens and answers ``SELECT 1`` within a short timeout
(``unreachable`` otherwise). ``migrations``: the database's Alembic revision is this code's head,
or a later one this code does not know (a rolling release migrates before restarting servers, and
the previous release must stay ready on the newer schema); ``behind`` when it is an older
revision, ``missing`` when the database was never migrated. ``outbox``: no SMS notice has waited
in ``outbound_messages`` (``pending``, or ``sending`` with its claim) longer than the configured
minutes (``stuck`` otherwise; 0 switches the check off).

The answers are status words only: no version, revision, count or error text reaches the caller.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.engine import Engine

from cplan.extensions import db
from cplan.models.accounts import SignInCounter
from cplan.models.incidents import Incident, IncidentStatus
from cplan.models.messages import MessageState, OutboundMessage
from cplan.models.roster import Contact, ContactStatus

OK = "ok"


def readiness(
    engine: Engine,
    heads: frozenset[str],
    known: frozenset[str],
    stuck_after: timedelta | None,
    now: datetime,
) -> dict[str, str]:
    """Run the checks on ``engine``; a mapping of check name to status word ("ok" when fine).

    ``heads`` are this code's head revisions and ``known`` every revision it has; a check that
    cannot run because an earlier one failed is not reported.
    """
    try:
        connection = engine.connect()
    except Exception:  # noqa: BLE001 (any driver error means the same to a balancer)
        return {"database": "unreachable"}
    try:
        with connection:
            connection.execute(text("SELECT 1"))
            checks = {"database": OK, "migrations": _migrations(connection, heads, known)}
            if stuck_after is not None:
                checks["outbox"] = _outbox(connection, now - stuck_after)
            connection.rollback()
            return checks
    except Exception:  # noqa: BLE001
        return {"database": "unreachable"}


def code_revisions(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """The head revisions and all revisions of the Alembic scripts in ``directory``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    scripts = ScriptDirectory.from_config(config)
    return (
        frozenset(scripts.get_heads()),
        frozenset(script.revision for script in scripts.walk_revisions()),
    )


def database_revisions(connection) -> frozenset[str] | None:
    """The revisions stamped in the database; None when it has no ``alembic_version`` table."""
    try:
        with connection.begin_nested():
            return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception:  # noqa: BLE001 (no alembic_version table: never migrated)
        return None


def _migrations(connection, heads: frozenset[str], known: frozenset[str]) -> str:
    revisions = database_revisions(connection)
    if not revisions:
        return "missing"
    if revisions == heads or not revisions <= known:
        return OK  # at head, or ahead of this code (a newer release migrated first)
    return "behind"


def _outbox(connection, before: datetime) -> str:
    waiting = connection.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            or_(
                and_(
                    OutboundMessage.state == MessageState.PENDING,
                    OutboundMessage.created_at < before,
                ),
                and_(
                    OutboundMessage.state == MessageState.SENDING,
                    OutboundMessage.claimed_at < before,
                ),
            )
        )
    )
    return "stuck" if waiting else OK


def figures(now: datetime, verdict_hours: int) -> dict[str, float]:
    """The figures worth watching, read from the database (for the metrics endpoint): each a
    count or an age in seconds, from indexed columns only."""
    session = db.session
    pending, oldest = session.execute(
        select(func.count(), func.min(Contact.enrolled_at)).where(
            Contact.status == ContactStatus.PENDING
        )
    ).one()
    open_statuses = [IncidentStatus.NEW, IncidentStatus.VERIFYING]
    incidents_open, incidents_overdue = session.execute(
        select(
            func.count(),
            func.count().filter(Incident.reported_at < now - timedelta(hours=verdict_hours)),
        ).where(Incident.status.in_(open_statuses))
    ).one()
    outbox = dict(
        session.execute(
            select(OutboundMessage.state, func.count())
            .where(OutboundMessage.state != MessageState.SENT)
            .group_by(OutboundMessage.state)
        ).all()
    )
    locks = session.scalar(
        select(func.count()).select_from(SignInCounter).where(SignInCounter.locked_until > now)
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite through a bare column
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {
        "enrolments_pending": pending,
        "enrolment_oldest_pending_seconds": (now - oldest).total_seconds() if oldest else 0.0,
        "incidents_open": incidents_open,
        "incidents_overdue": incidents_overdue,
        "outbox_pending": outbox.get(MessageState.PENDING, 0),
        "outbox_sending": outbox.get(MessageState.SENDING, 0),
        "outbox_failed": outbox.get(MessageState.FAILED, 0),
        "sign_in_locks_active": locks or 0,
    }
