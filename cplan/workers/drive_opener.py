"""The worker's second job: opening the drives the page recorded as ``opening``.

A drive larger than a district (the state, or a phase's districts across it) gives every
active contact in scope a task: over a million rows for the state, about half a minute on
PostgreSQL, longer than a web request may take. The page therefore only records the drive
(``opening``, audited) and the SMS worker (``flask cplan sms-worker``) opens it between two
batches: each drive in one transaction of its own (its tasks, its counters, the state ``open``
and the audit event commit together or not at all). A worker killed meanwhile leaves nothing
behind: the drive is still ``opening`` and the next worker to start opens it. An attempt that
fails marks the drive ``failed`` with the reason; the page offers to try again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from cplan.extensions import db
from cplan.services import drives
from cplan.services.audit import redact_mobiles

logger = logging.getLogger("cplan.drive_opener")


@dataclass
class Opened:
    opened: int = 0
    failed: int = 0

    @property
    def tried(self) -> int:
        return self.opened + self.failed


def failure_reason(error: BaseException) -> str:
    """One line for the page and the trail: the exception's kind and the database's first line
    (never the statement and its parameters)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return redact_mobiles(f"{type(cause).__name__}: {lines[0] if lines else ''}")[:300]


def open_waiting(*, stop=lambda: False) -> Opened:
    """Open every drive waiting to be opened, oldest first, one transaction each."""
    result = Opened()
    while not stop():
        drive = drives.waiting_drive()
        if drive is None:
            db.session.rollback()
            break
        drive_id = drive.id
        started = time.perf_counter()
        try:
            drives.finish_opening(drive)
            db.session.commit()
        except Exception as error:  # noqa: BLE001 - whatever it was, the drive's page says so
            db.session.rollback()
            reason = failure_reason(error)
            logger.exception("drive %s: opening failed: %s", drive_id, reason)
            drives.record_opening_failure(drive_id, reason)
            db.session.commit()
            result.failed += 1
            continue
        result.opened += 1
        logger.info(
            "drive %s opened with %s tasks in %.1f s",
            drive_id,
            drive.task_count,
            time.perf_counter() - started,
        )
    return result
