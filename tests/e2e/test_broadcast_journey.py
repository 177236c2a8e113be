"""A broadcast in a real browser, on a phone (360x740) and a desktop: the SP office composes a
registered message for Baraut's contacts, previews it, sends it (marked urgent, so the run
passes at any hour), and the ASP approves it when it needs approval."""

import re

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, demo_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

SP_OFFICE = demo_login("SP office Baghpat")
ASP = demo_login("ASP Baghpat")


def test_compose_preview_send_and_approve_a_broadcast(pages, screen):
    page = pages.signed_in(SP_OFFICE)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Broadcasts").click()
    page.get_by_role("link", name="New broadcast").click()
    page.get_by_role("link", name="Baraut", exact=True).click()
    page.get_by_label("Registered template").select_option(label="rumour alert (English)")
    page.get_by_label("Value 1", exact=True).fill(f"the fair ({screen})")
    page.get_by_label("Value 2", exact=True).fill("112")
    page.get_by_label(re.compile("^Urgent")).check()
    page.get_by_role("button", name="Preview the message").click()
    preview = page.locator("section[aria-labelledby=preview-heading]")
    expect(preview).to_contain_text(f"the news about the fair ({screen}) is false")
    expect(preview).to_contain_text("GSM-7")
    pages.check(page, "broadcast-preview")
    page.get_by_role("button", name="Send the broadcast").click()
    expect(page.get_by_role("status").first).to_be_visible()
    pages.check(page, "broadcast")
    if page.get_by_text("Awaiting approval").count():
        url = page.url
        asp = pages.signed_in(ASP)
        asp.goto(url)
        asp.get_by_role("button", name="Approve and send").click()
        expect(asp.get_by_role("status").first).to_contain_text("messages queued")
        pages.check(asp, "broadcast-approved")
        page = asp
    expect(page.locator(".delivery-counts")).to_contain_text("Waiting to be sent")


DLR_SECRET = "e2e-delivery-report-secret-0123456789"


@pytest.fixture
def fake_gateway():
    from tests.fake_gateway import FakeGateway

    gateway = FakeGateway().start()
    yield gateway
    gateway.stop()


def _template_id(server, language):
    from sqlalchemy import select

    from cplan.extensions import db
    from cplan.models.messages import DltTemplate

    with server.app.app_context():
        template_id = db.session.scalar(
            select(DltTemplate.id).where(
                DltTemplate.name == "rumour_alert", DltTemplate.language == language
            )
        )
        db.session.remove()
    return str(template_id)


def _send_due_messages(server, gateway, moment):
    """What ``make worker`` does, at ``moment``: every due message to the fake gateway."""
    from cplan.extensions import db
    from cplan.services.outbox import Policy
    from cplan.services.sms_gateways import HttpGateway
    from cplan.workers.sms_worker import Worker

    with server.app.app_context():
        worker = Worker(
            HttpGateway(f"{gateway.url}/send", "key", "UPPCPL", "1201000000000000001"),
            Policy(),
            batch_size=200,
            rate=0,
            clock=lambda: moment,
        )
        while worker.round():
            pass
        worker.pool.shutdown()
        db.session.remove()


@pytest.mark.parametrize("language", ["en", "hi"])
def test_a_scheduled_broadcast_goes_from_composing_to_approval_to_delivery_reports(
    pages, screen, server, fake_gateway, language
):
    from datetime import datetime, time, timedelta

    from cplan.formats import IST

    server.app.config["SMS_DLR_SECRET"] = DLR_SECRET
    # Tomorrow 10:30 IST: outside the quiet hours whenever the run happens.
    moment = datetime.combine(datetime.now(IST).date() + timedelta(days=1), time(10, 30), IST)
    sho = pages.signed_in(pages.server.checkers["station", screen, language])
    sho.goto("/broadcasts/new")
    expect(sho.locator("html")).to_have_attribute("lang", language)
    sho.locator("#template").select_option(_template_id(server, language))
    sho.locator("#value_1").fill("मेले" if language == "hi" else f"the fair ({screen})")
    sho.locator("#value_2").fill("112")
    sho.locator("#send_at").fill(moment.strftime("%Y-%m-%dT%H:%M"))
    sho.locator("#preview").click()
    preview = sho.locator("section[aria-labelledby=preview-heading]")
    expect(preview).to_contain_text("UCS-2" if language == "hi" else "GSM-7")
    expect(preview).to_contain_text("10:30")
    pages.check(sho, f"scheduled-preview-{language}")
    sho.locator("#send").click()
    expect(sho.locator("#decide-heading")).to_have_count(0)  # not the composer's to approve
    url = sho.url
    assert "/broadcasts/" in url and url.rstrip("/").split("/")[-1].isdigit()

    office = pages.signed_in(pages.server.checkers["district", screen, language])
    office.goto(url)
    office.locator("#approve").click()
    expect(office.get_by_role("status").first).to_be_visible()
    queued = office.locator(".delivery-counts dd[data-state=queued]")
    waiting = int(queued.inner_text())
    assert waiting > 100  # the station's contacts: more than one post may send alone
    pages.check(office, f"scheduled-approved-{language}")

    # Nothing is sent before its time; at its time the worker sends it, one number is refused.
    _send_due_messages(server, fake_gateway, moment - timedelta(minutes=1))
    office.reload()
    expect(queued).to_have_text(str(waiting))
    refused = "91" + _first_number(server, url)[3:]
    fake_gateway.refuse.add(refused)
    _send_due_messages(server, fake_gateway, moment + timedelta(minutes=1))
    answer = fake_gateway.push_reports(f"{server.url}/broadcasts/delivery-reports/http", DLR_SECRET)
    assert "applied" in answer["results"]

    office.reload()
    counts = office.locator(".delivery-counts")
    expect(counts.locator("dd[data-state=queued]")).to_have_text("0")
    expect(counts.locator("dd[data-state=delivered]")).to_have_text(str(waiting - 1))
    expect(counts.locator("dd[data-state=failed]")).to_have_text("1")
    expect(office.get_by_text("DLT_TEMPLATE_NOT_MATCHED")).to_be_visible()
    expect(office.locator("#cancel-heading")).to_have_count(0)  # it has gone: too late
    pages.check(office, f"scheduled-delivered-{language}")


def _first_number(server, url):
    from sqlalchemy import select

    from cplan.extensions import db
    from cplan.models.broadcasts import BroadcastMessage

    broadcast_id = int(url.rstrip("/").split("/")[-1])
    with server.app.app_context():
        number = db.session.scalar(
            select(BroadcastMessage.to_number)
            .where(BroadcastMessage.broadcast_id == broadcast_id)
            .order_by(BroadcastMessage.id)
            .limit(1)
        )
        db.session.remove()
    return number
