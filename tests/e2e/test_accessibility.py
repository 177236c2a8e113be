"""Accessibility: axe-core on each main page, in English and in Hindi, on a phone and a desktop.

No page may have a *serious* or *critical* violation (missing labels or names, too little
contrast, broken ARIA, unreachable scrolling regions...). Pages with form errors are checked
too, because that is when labels and announcements matter most.

axe-core comes from the npm registry, pinned in ``tests/e2e/package-lock.json``; ``npm ci`` in
``tests/e2e`` (``make test`` does it when npm is present) installs it. The checks run in their
own browser contexts with the page's CSP bypassed, because Playwright injects axe as an inline
script, which the CSP rightly forbids.

Each check signs in as its own district post (SP office) and station post (SHO Baraut), whose
officers have the check's language as their chosen language; the browser asks for the same
language, so even the sign-in pages appear in it.
"""

import re

import pytest

from cplan.devdata.demo_people import DEMO_PASSWORD
from tests.e2e.browser import (
    AXE_SCRIPT,
    NO_PLAYWRIGHT,
    SignIn,
    axe_violations,
    fill_incident_report,
)

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

# A village of Baleni, the smallest station: its call sheet stays short enough to check.
INCIDENT_PLACES = "Harsia"
ROSTER_PLACE = "Bichpari"


@pytest.fixture
def language():
    return "en"


class Audit:
    """``audit(page, name)``: axe-core on the page, plus the checks every main page gets;
    ``audit.assert_clean()`` fails listing every serious or critical violation found."""

    def __init__(self, pages, language):
        self.pages, self.language, self.found = pages, language, []

    def __call__(self, page, name, exclude=()):
        expect(page.locator("html")).to_have_attribute("lang", self.language)
        self.pages.check(page, f"{self.language}-{name}")
        path = "/" + page.url.split("//", 1)[1].split("/", 1)[1]
        self.found += [
            f"{name} ({path}): {violation}" for violation in axe_violations(page, exclude=exclude)
        ]

    def assert_clean(self):
        assert not self.found, "serious or critical accessibility violations:\n" + "\n".join(
            self.found
        )


@pytest.fixture
def audit(pages, language):
    if not AXE_SCRIPT.exists():
        pytest.skip(f"axe-core is not installed: run `npm ci` in {AXE_SCRIPT.parent}")
    return Audit(pages, language)


def new_page(pages, language):
    return pages.new(bypass_csp=True, locale="hi-IN" if language == "hi" else "en-IN")


# Both languages on both screens: layout, wording and the length of words differ.
@pytest.mark.parametrize(
    ("screen", "language"), [("phone", "hi"), ("phone", "en"), ("desktop", "en"), ("desktop", "hi")]
)
def test_main_pages_have_no_serious_accessibility_violations(
    pages, server, screen, language, audit
):
    english = language == "en"
    district = server.checkers["district", screen, language]
    page = new_page(pages, language)
    sign_in = SignIn(page, server, district, english=english)
    page.goto("/auth/sign-in")
    audit(page, "sign-in")
    sign_in.ask_for_code()
    audit(page, "code")
    sign_in.enter_code("000000")
    expect(page.get_by_role("alert")).to_be_visible()
    audit(page, "code-wrong")
    sign_in.enter_code()
    audit(page, "officer")
    sign_in.identify()

    audit(page, "home")
    page.goto(f"/geo/search?q={'बिचपरी' if english else 'Bichpari'}")  # the other script
    audit(page, "find-a-place")
    roster = f"/roster/places/{server.place_id(ROSTER_PLACE)}"
    page.goto(roster)
    page.locator("details.reveal-box summary").click()
    audit(page, "roster-masked")
    contact = page.locator(".contact-card a.name").first
    name = contact.inner_text()
    contact.click()
    audit(page, "contact")
    # Long lists repeat the same rows: a few of them are checked, which is much quicker.
    page.goto(f"/search?q={name}")
    audit(page, "search")
    page.goto(f"/enrolments/?{server.busiest_queue_filter()}")
    audit(page, "approvals")
    page.locator("a[href*='/reject?']").first.click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/reject"))
    audit(page, "reject-an-enrolment")
    page.goto("/incidents/new")
    fill_incident_report(page, INCIDENT_PLACES, "Accessibility check")
    audit(page, "report-an-incident")
    page.locator("form.incident-form [type=submit]").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    audit(page, "incident")
    page.locator("a[href$='/calls']").first.click()
    page.wait_for_url(re.compile(r"/calls$"))
    # A hundred cards of the same markup: the first ten are checked.
    audit(page, "call-sheet", exclude=[".call-sheet > li:nth-child(n+12)"])
    page.goto("/incidents/")
    audit(page, "incidents")
    page.goto("/incidents/review")
    audit(page, "review-queue")
    page.goto("/coverage/")
    audit(page, "coverage")
    page.goto("/map")  # the district's villages as points
    audit(page, "map-district", exclude=[".village-map a:nth-of-type(n+21)"])
    page.goto(f"/geo/places/{server.place_id(ROSTER_PLACE)}/names")
    audit(page, "correct-place-name")

    station = server.checkers["station", screen, language]
    page = new_page(pages, language)
    SignIn(page, server, station, english=english).complete()
    audit(page, "station-home")
    page.goto(roster)
    audit(page, "roster")
    # The page explains a generated spelling once; the script makes that every mark's tooltip.
    note_title = page.locator("#generated-note").get_attribute("data-title")
    expect(page.locator(".contact-card .generated").first).to_have_attribute("title", note_title)
    page.goto(roster + "/enrol")
    audit(page, "enrol")
    page.locator("form.enrol-form #submit").click()
    # Each error is tied to its field and announced.
    name_field = page.locator("#name")
    expect(name_field).to_have_attribute("aria-invalid", "true")
    assert "name-error" in name_field.get_attribute("aria-describedby").split()
    expect(page.locator("#name-error")).to_have_attribute("role", "alert")
    audit(page, "enrol-errors")
    page.locator("#name").fill("राम किशोर" if english else "Ram Kishore")
    page.locator("form.enrol-form #check_spelling").click()
    expect(page.locator("#name_other")).not_to_have_value("")
    audit(page, "enrol-check-spelling")

    # The other homes and dashboards: an ASP's, and the state control room's with its map.
    page = new_page(pages, language)
    SignIn(page, server, server.checkers["asp", screen, language], english=english).complete()
    audit(page, "asp-home")
    page = new_page(pages, language)
    control_room = server.checkers["control-room", screen, language]
    SignIn(page, server, control_room, english=english).complete()
    audit(page, "control-room-home")
    page.goto("/map")
    audit(page, "map-state")
    page.goto("/coverage/")
    audit(page, "coverage-state")
    audit.assert_clean()


def focused(page):
    """What has the keyboard focus: its tag, id, text and whether a focus ring shows."""
    return page.evaluate("""() => {
        const el = document.activeElement, style = getComputedStyle(el);
        return {tag: el.tagName.toLowerCase(), id: el.id, text: el.innerText || el.value || '',
                ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
    }""")


@pytest.mark.parametrize("screen", ["phone"])
def test_signing_in_and_reaching_the_menu_work_by_keyboard_alone(pages, server, screen):
    """Tab, type and Enter only: the skip link comes first and shows where the focus is, the
    sign-in steps submit with Enter, and the menu is reachable after the header."""
    post = server.checkers["keyboard", screen, "en"]
    page = pages.new()
    page.goto("/auth/sign-in")
    page.keyboard.press("Tab")
    assert focused(page) == {"tag": "a", "id": "", "text": "Skip to content", "ring": True}
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    while focused(page)["id"] != "cug":
        assert focused(page)["ring"], focused(page)
        page.keyboard.press("Tab")
    page.keyboard.type(post.cug[3:])
    server.forget_code_limits(post.cug)
    sent_before = len(server.texts_to(post.cug))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/auth/code\b"))
    page.keyboard.press("Tab")
    while focused(page)["id"] != "code":
        page.keyboard.press("Tab")
    page.keyboard.type(server.last_code(post.cug, after=sent_before))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/auth/officer\b"))
    page.keyboard.press("Tab")
    while focused(page)["id"] != "pno":
        page.keyboard.press("Tab")
    page.keyboard.type(post.pno)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"^(?!.*/auth/).*$"))

    page.goto("/")
    seen = []
    for _ in range(15):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1]["text"] == "Find a place" and seen[-1]["tag"] == "a":
            break
    assert seen[-1]["text"] == "Find a place", [s["text"] for s in seen]
    assert all(s["ring"] for s in seen), seen
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/geo/search\b"))
