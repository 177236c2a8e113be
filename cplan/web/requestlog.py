"""One JSON line per request, and the request id that ties it to the response and the audit trail.

Every response carries ``X-Request-Id``: nginx's id when the app sits behind trusted proxies
(``CPLAN_TRUSTED_PROXIES``; ``proxy_set_header X-Request-Id $request_id``) and the id is plain
(8-64 letters, digits, ``.``, ``_``, ``-``), else a fresh random one. The ``cplan.requests``
logger then writes one JSON line for the request:

    {"time": "2026-12-07T18:10:02.114Z", "request_id": "5f0c...", "method": "GET",
     "endpoint": "roster.village", "status": 200, "duration_ms": 12.4, "post_id": 7,
     "audit_ids": [1812]}

``endpoint`` is the view's name, never the path or the query string, which can hold a mobile
number, a search or a setup code; no header, cookie, address or form value is written.
``post_id`` is the signed-in post (null for anonymous requests), taken without a query.
``audit_ids`` lists the audit events this request committed (at most 20, then
``audit_events`` counts them all), so a log line leads to its events and an event back to its
request. A read answered on its second attempt (``cplan.web.faults``) adds ``"retried": true``
under the first attempt's id; the first attempt writes no line. The id is not written into each
event's detail: the detail is hashed into the chain
and compared exactly across the code, and the event id already joins the two (an event's
place in the chain, its seq, is given later by the sealer).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import g, has_request_context, request
from sqlalchemy import inspect

from cplan.services import audit
from cplan.web import faults

HEADER = "X-Request-Id"
MAX_SEQS_LOGGED = 20
logger = logging.getLogger("cplan.requests")

_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def register(app) -> None:
    """Give every request an id and log it once answered (register before the other hooks, so
    the id exists when they run and the line is written after theirs)."""
    trust_header = int(app.config.get("TRUSTED_PROXIES") or 0) > 0

    @app.before_request
    def start_request():
        given = request.headers.get(HEADER, "") if trust_header else ""
        g.request_id = request.environ.get(faults.REQUEST_ID) or (
            given if _PLAIN_ID.fullmatch(given) else secrets.token_hex(16)
        )
        request.environ[faults.REQUEST_ID] = g.request_id  # kept if the read is run again
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if faults.discarded():
            return response  # a read run again (cplan.web.faults): its second answer is logged
        request_id = g.get("request_id") or secrets.token_hex(16)
        response.headers[HEADER] = request_id
        started = g.get("request_started")
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "request_id": request_id,
            "method": request.method,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "post_id": _post_id(),
        }
        if faults.retried():
            line["retried"] = True
        seqs = g.get("audit_ids")
        if seqs:
            line["audit_ids"] = seqs[:MAX_SEQS_LOGGED]
            if len(seqs) > MAX_SEQS_LOGGED:
                line["audit_events"] = len(seqs)
        logger.info(json.dumps(line, separators=(",", ":")))
        return response


def _post_id() -> int | None:
    """The signed-in post's id, read from the identity map (no query, even after a commit)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    identity = inspect(user.post).identity
    return identity[0] if identity else None


@audit.on_commit
def _committed(written) -> None:
    if has_request_context():
        g.setdefault("audit_ids", []).extend(event_id for event_id, _action, _outcome in written)
