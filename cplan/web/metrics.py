"""Figures for Prometheus: requests by endpoint and status, their latency, and the work waiting.

``register`` counts every request (``cplan_requests_total{endpoint,method,status}``) and times
it (``cplan_request_duration_seconds{endpoint}``, a histogram); every committed audit event is
counted by action and outcome (``cplan_audit_events_total``: sign-in codes sent and failed,
locks, approvals, exports), so the services need no metrics code of their own.
``exposition`` renders those with the figures read from the database at scrape time
(``cplan.services.health.figures``: enrolments waiting and the oldest one's age, incidents open
and overdue, the SMS outbox by state, sign-in locks in force), for ``/metrics``
(``cplan.blueprints.health``), which answers only the addresses in
``CPLAN_METRICS_ALLOWED_NETWORKS``.

gunicorn runs several worker processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder,
emptied at each start; gunicorn.conf.py marks dead workers), the counts of every worker are
added up whichever worker answers the scrape; without it each worker reports its own.
"""

from __future__ import annotations

import ipaddress
import os
import time

from flask import g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from cplan.models.base import utcnow
from cplan.services import audit, health
from cplan.web import faults

REQUESTS = Counter(
    "cplan_requests",
    "Requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "cplan_request_duration_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
AUDIT_EVENTS = Counter(
    "cplan_audit_events",
    "Audit events committed, by action and outcome: sign-in codes sent (auth.otp_sent) and "
    "failed (auth.otp_failed), locks (auth.cug_locked...), approvals, exports.",
    ["action", "outcome"],
)
RETRIED = Counter(
    "cplan_reads_retried",
    "Reads run again after losing their database connection (cplan.web.faults), by the "
    "status of the second answer.",
    ["status"],
)
CONTENT_TYPE = CONTENT_TYPE_LATEST

_FIGURES = {
    "enrolments_pending": "Enrolments waiting for an ASP's decision.",
    "enrolment_oldest_pending_seconds": "Age of the oldest enrolment waiting, in seconds.",
    "incidents_open": "Incidents new or being verified.",
    "incidents_overdue": "Open incidents past the verdict deadline.",
    "outbox_pending": "SMS notices waiting to be sent.",
    "outbox_sending": "SMS notices claimed by a sender, not yet done.",
    "outbox_failed": "SMS notices the gateway failed or refused.",
    "sign_in_locks_active": "Sign-in subjects (numbers, posts, officers) locked now.",
}


def register(app) -> None:
    """Count and time every request (the start time is the request log's)."""

    @app.after_request
    def count_request(response):
        if faults.discarded():
            return response  # a read run again: only its second answer counts
        endpoint = request.endpoint or "none"  # a URL with no view: one label, not each path
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        if faults.retried():
            RETRIED.labels(str(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response


@audit.on_commit
def _count_committed(written) -> None:
    for _event_id, action, outcome in written:
        AUDIT_EVENTS.labels(action, outcome).inc()


def allowed(address: str | None, networks) -> bool:
    """True when ``address`` lies in one of ``networks`` (CIDR strings)."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for network in networks or ():
        try:
            if client in ipaddress.ip_network(str(network).strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


class _DatabaseFigures:
    """A collector that reads the figures from the database when scraped."""

    def __init__(self, verdict_hours: int):
        self.verdict_hours = verdict_hours

    def collect(self):
        for name, value in health.figures(utcnow(), self.verdict_hours).items():
            family = GaugeMetricFamily(f"cplan_{name}", _FIGURES[name])
            family.add_metric([], float(value))
            yield family


def exposition(verdict_hours: int) -> bytes:
    """The text a scrape gets: request figures (of every worker when multiprocess) and the
    database's figures."""
    figures = CollectorRegistry()
    figures.register(_DatabaseFigures(verdict_hours))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        requests = generate_latest(workers)
    else:
        requests = generate_latest(REGISTRY)
    return requests + generate_latest(figures)
