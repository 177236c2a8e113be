"""/metrics: Prometheus figures for the configured addresses only (issue 21)."""

from datetime import timedelta

import pytest

from cplan.models.accounts import SignInCounter
from cplan.models.base import utcnow
from cplan.models.messages import MessageState, OutboundMessage
from cplan.models.roster import Contact, ContactCategory, ContactStatus, Script
from cplan.web.metrics import allowed

NUMBER = "+919876543210"


@pytest.fixture
def scraper(app, client):
    app.config["METRICS_ALLOWED_NETWORKS"] = ["127.0.0.0/8", "10.20.0.0/16"]
    return client


def figure(text, name):
    """The value of an unlabelled figure in the exposition."""
    (line,) = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split()[1])


def test_metrics_are_closed_until_addresses_are_configured(client):
    assert client.get("/metrics").status_code == 404


def test_an_address_outside_the_configured_networks_gets_404(app, client):
    app.config["METRICS_ALLOWED_NETWORKS"] = ["10.20.0.0/16"]
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.3.4"}).status_code == 200


def test_requests_are_counted_by_endpoint_and_status_and_timed(scraper):
    scraper.get("/livez")
    scraper.get("/no-such-page-9876543210")
    text = scraper.get("/metrics").get_data(as_text=True)

    assert 'cplan_requests_total{endpoint="health.livez",method="GET",status="200"}' in text
    assert 'cplan_requests_total{endpoint="none",method="GET",status="404"}' in text
    assert 'cplan_request_duration_seconds_bucket{endpoint="health.livez",le="0.05"}' in text
    assert "9876543210" not in text  # no path, no number


def test_the_work_waiting_is_read_from_the_database(scraper, db, make_district, make_place):
    place = make_place("Bijrol", make_district("Baghpat", code="124"))
    now = utcnow()
    db.session.add_all(
        [
            Contact(
                place_id=place.id,
                unit_path=place.unit_path,
                name="Ramesh Kumar",
                name_script=Script.LATIN,
                mobile=NUMBER,
                category=ContactCategory.OTHER,
                status=ContactStatus.PENDING,
                enrolled_at=now - timedelta(days=3),
            ),
            OutboundMessage(to_number=NUMBER, template="cug_changed", state=MessageState.FAILED),
            OutboundMessage(to_number=NUMBER, template="cug_changed", state=MessageState.SENT),
            SignInCounter(key=f"cug:{NUMBER}", locked_until=now + timedelta(minutes=15)),
        ]
    )
    db.session.commit()

    response = scraper.get("/metrics")

    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert figure(text, "cplan_enrolments_pending") == 1
    assert 3 * 86400 <= figure(text, "cplan_enrolment_oldest_pending_seconds") < 3 * 86400 + 60
    assert figure(text, "cplan_outbox_failed") == 1 and figure(text, "cplan_outbox_pending") == 0
    assert figure(text, "cplan_sign_in_locks_active") == 1
    assert figure(text, "cplan_incidents_open") == 0
    assert "9876543210" not in text and "Ramesh" not in text


@pytest.mark.parametrize(
    ("address", "networks", "expected"),
    [
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("2001:db8::5", ["2001:db8::/32"], True),
        ("192.168.1.1", ["10.0.0.0/8", "not a network"], False),
        ("", ["0.0.0.0/0"], False),
        (None, ["0.0.0.0/0"], False),
    ],
)
def test_addresses_are_matched_against_networks(address, networks, expected):
    assert allowed(address, networks) is expected


def labelled(text, prefix):
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_committed_audit_events_are_counted_by_action_and_rolled_back_ones_not(scraper, db):
    from cplan.services import audit

    series = 'cplan_audit_events_total{action="auth.otp_failed",outcome="failure"}'
    before = labelled(scraper.get("/metrics").get_data(as_text=True), series)
    audit.record("auth.otp_failed", outcome="failure")
    db.session.commit()
    audit.record("auth.otp_failed", outcome="failure")
    db.session.rollback()
    after = labelled(scraper.get("/metrics").get_data(as_text=True), series)
    assert after == before + 1


def test_the_sample_dashboard_asks_only_for_figures_the_app_exports(scraper, db):
    import json
    import re
    from pathlib import Path

    from cplan.services import audit

    audit.record("auth.otp_sent")
    db.session.commit()
    scraper.get("/livez")
    text = scraper.get("/metrics").get_data(as_text=True)
    dashboard = Path(__file__).resolve().parent.parent / "deploy" / "grafana-dashboard.json"
    queries = [
        target["expr"]
        for panel in json.loads(dashboard.read_text())["panels"]
        for target in panel["targets"]
    ]
    names = {name for query in queries for name in re.findall(r"cplan_[a-z_]+", query)}
    assert len(names) >= 10
    for name in names:
        assert f"\n{name}{{" in text or f"\n{name} " in text, name
