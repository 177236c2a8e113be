"""Health endpoints for the load balancer and the process supervisor, and the metrics.

``/livez`` answers as long as the process serves requests and checks nothing else, so a
database blip never makes a supervisor restart every server. ``/readyz`` runs the readiness
checks (``cplan.services.health``) on a connection of its own, opened with a short timeout
(``CPLAN_HEALTH_TIMEOUT`` seconds), so a database that hangs answers 503 quickly instead of
holding the probe. Both answer JSON with status words only: no version, revision, count or
error text, so an anonymous caller learns nothing but whether to send traffic here.
``/metrics`` (Prometheus, ``cplan.web.metrics``) answers only the configured addresses: any other
gets the same 404 as a page that does not exist.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from cplan.models.base import utcnow
from cplan.services import health
from cplan.web import metrics
from cplan.web.access import public

bp = Blueprint("health", __name__)

_ENGINE_KEY = "cplan_health_engine"
_REVISIONS_KEY = "cplan_health_revisions"


@bp.get("/livez")
@public
def livez():
    """Say the process is alive (checks nothing else)."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
@public
def readyz():
    """Say whether this server can serve: database, migrations and SMS outbox, by status word."""
    heads, known = _revisions()
    minutes = int(current_app.config.get("HEALTH_OUTBOX_STUCK_MINUTES") or 0)
    checks = health.readiness(
        _engine(),
        heads,
        known,
        timedelta(minutes=minutes) if minutes > 0 else None,
        utcnow(),
    )
    ready = all(status == health.OK for status in checks.values())
    return _answer(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )


@bp.get("/metrics")
@public
def metrics_page():
    """Prometheus figures, for the addresses in CPLAN_METRICS_ALLOWED_NETWORKS only (404 else)."""
    if not metrics.allowed(request.remote_addr, current_app.config["METRICS_ALLOWED_NETWORKS"]):
        abort(404)
    response = Response(
        metrics.exposition(int(current_app.config["INCIDENT_VERDICT_HOURS"])),
        content_type=metrics.CONTENT_TYPE,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _engine() -> Engine:
    """The probes' own engine: no pool (each probe opens a connection, as a request would when
    the pool is empty) and a short timeout on connecting and on each statement."""
    engine = current_app.extensions.get(_ENGINE_KEY)
    if engine is None:
        engine = create_engine(**_engine_arguments(current_app.config))
        current_app.extensions[_ENGINE_KEY] = engine
    return engine


def _engine_arguments(config) -> dict:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    timeout = max(1, int(config.get("HEALTH_TIMEOUT") or 2))
    if url.get_backend_name() == "sqlite":
        path = url.database or ""

        def connect():  # read-write, never create: a missing file is a database that is gone
            return sqlite3.connect(
                f"file:{path}?mode=rw", uri=True, timeout=timeout, check_same_thread=False
            )

        return {"url": "sqlite://", "creator": connect, "poolclass": NullPool}
    return {
        "url": url,
        "poolclass": NullPool,
        "connect_args": {
            "connect_timeout": timeout,
            "options": f"-c statement_timeout={timeout * 1000}",
            "application_name": f"{config['DB_APPLICATION_NAME']}-health",
        },
    }


def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """This code's Alembic head revisions and all its revisions (read once per process)."""
    revisions = current_app.extensions.get(_REVISIONS_KEY)
    if revisions is None:
        revisions = health.code_revisions(current_app.extensions["migrate"].directory)
        current_app.extensions[_REVISIONS_KEY] = revisions
    return revisions
