"""Working a verification drive on a phone (and a desktop): open "verify next" from the drives
page, verify three contacts with one tap each after the Call button, and see the progress move.

The demo drive is open in Baghpat; the station post is the Baraut desk on the phone and the SHO
of Baraut on the desktop (tests/e2e/browser.py). Each contact needs at most two taps: Call (a
``tel:`` link, not followed here) and the outcome.
"""

import re

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

TEL = re.compile(r"^tel:\+91[6-9]\d{9}$")
DONE = re.compile(r"(\d+) of (\d+) done", re.IGNORECASE)


def done_count(page) -> int:
    text = page.locator(".kicker").inner_text()
    assert DONE.search(text), text
    return int(DONE.search(text).group(1))


def test_verify_three_contacts_with_two_taps_each(pages, screen):
    page = pages.signed_in(station_login(screen))
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Verification drives"
    ).click()
    pages.check(page, "drives")
    page.get_by_role("link", name="Verify next").first.click()
    expect(page.locator("h1")).to_have_text("Verify next")
    pages.check(page, "verify-next")
    before = done_count(page)
    seen = []
    for _ in range(3):
        card = page.locator(".verify-card")
        name = card.locator(".names").inner_text()
        call = card.get_by_role("link", name=re.compile("^Call "))
        assert TEL.match(call.get_attribute("href"))
        confirmed = page.get_by_role("button", name="Confirmed", exact=True)
        if pages.phone:
            for target in (call, confirmed):
                box = target.bounding_box()
                assert box["height"] >= 44 and box["width"] >= 44, box
        confirmed.click()  # the second tap: recorded, and the next contact is shown
        page.wait_for_load_state()
        expect(page.get_by_role("status").or_(page.get_by_role("alert"))).to_contain_text(
            "confirmed"
        )
        assert page.locator(".verify-card .names").inner_text() != name
        seen.append(name)
    assert len(set(seen)) == 3
    assert done_count(page) == before + 3
    page.get_by_role("button", name="हिन्दी").click()
    expect(page.locator("h1")).to_have_text("अगला सत्यापन")
    pages.check(page, "verify-next-hi")
    page.get_by_role("button", name="English").click()
    page.locator(".kicker a").click()
    pages.check(page, "progress")
    expect(page.locator(".coverage-figures")).to_contain_text("Confirmed")
