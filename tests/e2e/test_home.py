"""The home pages in a real browser: each role's first screen answers "what needs me now?",
on a phone (360x740) in Hindi and on a desktop (1280x800) in English, with screenshots in
``tests/e2e/artefacts/home-<screen>-<role>.png``; a station desk reaches a Call button in one
tap from its home."""

import re

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, demo_login, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

ROLES = {
    "station": None,  # the screen's station post (station_login)
    "district": demo_login("SP office Baghpat"),
    "control-room": demo_login("UP-112 supervisor, shift B"),
}
# What each home shows first, in each language: (English, Hindi) headings.
HEADINGS = {
    "station": [("Open incidents", "खुली घटनाएँ"), ("Villages and wards", None)],
    "district": [
        ("Open incidents, most severe first", "खुली घटनाएँ, सबसे गंभीर पहले"),
        ("Approvals by age", "प्रतीक्षा की अवधि के अनुसार स्वीकृतियाँ"),
        ("Coverage per police station", "थानेवार कवरेज"),
    ],
    "control-room": [
        ("Open incidents, most severe first", "खुली घटनाएँ, सबसे गंभीर पहले"),
        ("Open incidents by district", "ज़िलेवार खुली घटनाएँ"),
    ],
}


@pytest.mark.parametrize("role", list(ROLES))
def test_each_role_lands_on_its_own_work(pages, screen, role, artefacts):
    post = ROLES[role] or station_login(screen)
    page = pages.signed_in(post)
    hindi = pages.phone  # the phone in Hindi, the desktop in English
    if hindi:
        page.get_by_role("button", name="हिन्दी").click()
        expect(page.locator("html")).to_have_attribute("lang", "hi")
    try:
        for english, in_hindi in HEADINGS[role]:
            wanted = (in_hindi or english) if hindi else english
            if hindi and in_hindi is None:
                continue
            expect(
                page.get_by_role("heading", name=re.compile("^" + re.escape(wanted)))
            ).to_be_visible()
        charts = page.locator("svg.chart-svg[role=img]")
        if role != "station":
            assert charts.count() >= 1
            for chart in charts.all():
                assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
                box = chart.bounding_box()
                assert box["width"] <= page.viewport_size["width"]
        name = f"home-{role}-{'hi' if hindi else 'en'}"
        pages.check(page, name)
        # What the post sees before scrolling: the question the home page must answer there.
        page.screenshot(path=str(artefacts / f"{name}-{screen}-first-screen.png"))
    finally:
        if hindi:  # the officer's language is remembered: leave it as the other tests expect
            page.get_by_role("button", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")


def test_a_station_reaches_a_call_button_in_one_tap_from_its_home(pages, screen):
    page = pages.signed_in(station_login(screen))
    taps = 0
    villages = page.locator(".village-list a")
    assert villages.count() > 10  # the station's villages, each with its count
    if pages.phone:
        box = villages.first.bounding_box()
        assert box["height"] >= 44, f"a village link is too small to tap: {box}"
    villages.filter(has_text=re.compile(r"\b1[0-9] of 10\b")).first.click()
    taps += 1
    call = page.get_by_role("link", name=re.compile("^Call ")).first
    expect(call).to_be_visible()
    assert re.match(r"^tel:\+91[6-9]\d{9}$", call.get_attribute("href"))
    assert taps <= 3


def test_the_control_room_home_refreshes_itself_every_minute(pages, screen):
    post = ROLES["control-room"]
    page = pages.signed_in(post)
    page.clock.install()
    page.goto("/")
    page.evaluate(
        "() => { window.notReloaded = true; document.getElementById('home-live').dataset.old = 1; }"
    )
    with page.expect_request(lambda request: request.headers.get("x-cplan-refresh") == "1"):
        page.clock.run_for(61_000)
    page.wait_for_function("() => !document.getElementById('home-live').dataset.old")
    expect(page.locator("#home-live .home-figures")).to_be_visible()
    assert page.evaluate("() => window.notReloaded === true")  # swapped in place, no reload
