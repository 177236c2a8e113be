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
