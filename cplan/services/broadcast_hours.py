"""Quiet hours: no broadcast SMS reaches a citizen between 21:00 and 09:00 IST unless the SP
office marked it urgent (the rule used when composing, approving and by the worker alike)."""

from __future__ import annotations

from datetime import datetime, time

from cplan.formats import IST

QUIET_FROM = time(21, 0)
QUIET_UNTIL = time(9, 0)


def is_quiet(now: datetime) -> bool:
    """True between 21:00 and 09:00 IST."""
    local = now.astimezone(IST).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL
