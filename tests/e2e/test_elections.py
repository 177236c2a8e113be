"""Elections in a real browser, on a phone (360x740) and a desktop: the SP office opens the
demo election, its district's sensitive places (most sensitive first) and a grade form, in
English and Hindi, without sideways scrolling; a graded village's roster shows the badge."""

import re

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, demo_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

SP_OFFICE = demo_login("SP office Baghpat")


def test_the_sp_office_reads_the_election_and_its_sensitive_places(pages, screen):
    page = pages.signed_in(SP_OFFICE)
    page.goto("/elections/")
    pages.check(page, "elections")
    page.get_by_role("link", name=re.compile("UP gram panchayat elections")).click()
    expect(page.get_by_role("heading", name=re.compile("panchayat"))).to_be_visible()
    pages.check(page, "election")
    page.get_by_role("link", name=re.compile("Sensitive places of")).first.click()
    listing = page.url
    pages.check(page, "sensitive-places")
    badges = page.locator(".badge-sensitive")
    expect(badges.first).to_have_text("अति संवेदनशील प्लस")
    page.get_by_role("link", name="Change").first.click()
    expect(page.get_by_role("button", name="Save the grade")).to_be_visible()
    pages.check(page, "grade")
    page.go_back()
    roster_link = page.locator("a[href*='/roster/places/']").first
    roster_link.click()
    expect(page.locator("h1 .badge-sensitive")).to_have_text("अति संवेदनशील प्लस")
    pages.check(page, "graded-roster")
    page.get_by_role("button", name="हिन्दी").click()
    try:
        expect(page.locator(".badge-election-mark").first).to_be_visible()
        pages.check(page, "graded-roster-hindi")
        page.goto(listing)
        expect(page.get_by_role("heading", name=re.compile("संवेदनशील स्थान"))).to_be_visible()
        pages.check(page, "sensitive-places-hindi")
    finally:  # the language is remembered per officer: leave English for the other tests
        page.get_by_role("button", name="English").click()
