"""The main journeys in a real browser, each on a phone (360x740) and a desktop (1280x800).

Each main page on the way is checked for sideways scrolling on the phone and saved as a
screenshot (``tests/e2e/artefacts/<journey>-<screen>-<page>.png``). The demo posts sign in
through the pages once per run (a CUG number takes one code a minute); the station journeys
run as the Baraut desk on the phone and as the SHO of Baraut on the desktop.
"""

import re

import pytest

from cplan.services.transliteration import to_devanagari
from tests.e2e.browser import NO_PLAYWRIGHT, SignIn, demo_login, fill_incident_report, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

STATION = {screen: station_login(screen) for screen in ("phone", "desktop")}
# Posts that sign in and out in the first journey, and nowhere else.
VISITOR = {"phone": demo_login("CO Baraut"), "desktop": demo_login("SHO Khekada")}
# Bichpari has no Hindi name in the sources: the demo shows the generated one.
VISITOR_VILLAGE = {"phone": ("Bichpari", to_devanagari("BICHPARI")), "desktop": ("Khekada", "खेकड़ा")}
ASP = demo_login("ASP Baghpat")
UP112 = demo_login("UP-112 supervisor, shift B")

TEL = re.compile(r"^tel:\+91[6-9]\d{9}$")
WHATSAPP = re.compile(r"^https://wa\.me/91[6-9]\d{9}$")


def search(page, query):
    """Type ``query`` into the page's search form and send it."""
    form = page.locator("form[role=search]")
    form.locator("input[name=q]").fill(query)
    form.get_by_role("button").click()
    page.wait_for_load_state()


def open_place(page, name):
    """Open the place called ``name`` from a list of places (not its station's link)."""
    page.locator("a[href*='/geo/places/']", has_text=re.compile(f"^{name}$")).first.click()


def test_sign_in_switch_language_and_sign_out(pages, screen):
    """CUG, code and password; Hindi and back; after signing out, Back shows nothing private."""
    post = VISITOR[screen]
    page = pages.new()
    sign_in = SignIn(page, pages.server, post)
    page.goto("/auth/sign-in")
    pages.check(page, "sign-in")
    sign_in.ask_for_code()
    pages.check(page, "code")
    sign_in.enter_code()
    pages.check(page, "officer")
    expect(page.get_by_text(post.title)).to_be_visible()
    sign_in.identify()
    expect(page.get_by_text(post.name)).to_be_visible()
    pages.check(page, "home")

    page.get_by_role("button", name="हिन्दी").click()
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    pages.check(page, "home-hi")
    english, hindi = VISITOR_VILLAGE[screen]
    page.get_by_role("navigation").get_by_role("link", name="स्थान खोजें").click()
    search(page, hindi)
    open_place(page, hindi)
    page.get_by_role("link", name=re.compile("सम्भ्रान्त नागरिक")).click()
    expect(page.locator("h1")).to_contain_text(hindi)
    names = page.locator(".contact-card .name").all_inner_texts()
    assert names, "the roster shows its contacts"
    pages.check(page, "roster-hi")
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text(english)
    roster_url = page.url

    page.locator(".account-menu summary").click()  # the account folds under the name
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/auth/sign-in")
    expect(page.get_by_role("status").or_(page.get_by_role("alert"))).to_contain_text("signed out")
    page.go_back()
    page.wait_for_load_state()
    body = page.locator("body").inner_text()
    assert "/auth/sign-in" in page.url, f"Back after signing out opened {page.url}"
    assert post.name not in body and not any(name in body for name in names), (
        "Back after signing out still shows the roster"
    )
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    # Opening the roster's address again asks for sign-in too.
    page.goto(roster_url)
    assert "/auth/sign-in" in page.url
    assert not any(name in page.locator("body").inner_text() for name in names)


def test_find_a_village_in_hindi_and_call_its_contacts(pages, screen):
    """Search in Devanagari, open the village's roster: each contact has a Call link and, when
    they use WhatsApp, a WhatsApp link, both to the same full number."""
    page = pages.signed_in(STATION[screen])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a place").click()
    search(page, "बिचपरी")
    expect(page.get_by_role("status")).to_contain_text("found")
    pages.check(page, "search-results")
    open_place(page, "Bichpari")
    pages.check(page, "place")
    page.get_by_role("link", name="Respected citizens (roster)").click()
    expect(page.locator("h1")).to_contain_text("Bichpari")
    pages.check(page, "roster")

    cards = page.locator("section[aria-labelledby=active-heading] .contact-card")
    assert cards.count() >= 5
    whatsapp_seen = 0
    for card in cards.all():
        call = card.get_by_role("link", name=re.compile("^Call "))
        href = call.get_attribute("href")
        assert TEL.match(href), href
        name = card.locator(".name").inner_text()
        expect(call).to_have_attribute("aria-label", f"Call {name}")
        if pages.phone:
            box = call.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, (
                f"Call button too small to tap: {box}"
            )
        whatsapp = card.get_by_role("link", name=re.compile("^WhatsApp "))
        if whatsapp.count():
            whatsapp_seen += 1
            assert WHATSAPP.match(whatsapp.get_attribute("href"))
            assert whatsapp.get_attribute("href").endswith(href.removeprefix("tel:+"))
            expect(whatsapp).to_have_attribute("rel", re.compile("noopener"))
    assert whatsapp_seen, "some demo contacts of Bichpari use WhatsApp"


ENROL = {
    "phone": ("Budhera", "रमेश चंद त्यागी", "098765 00001"),
    "desktop": ("Jangarh", "Suresh Pal Dhaka", "+91 98765-00002"),
}


def test_enrol_a_contact_and_the_asp_approves_it(pages, screen):
    """The station enrols a contact (pending); the ASP finds it in the queue and approves it;
    the station's roster then lists it as active."""
    village, name, mobile = ENROL[screen]
    page = pages.signed_in(STATION[screen])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Find a place").click()
    search(page, village)
    open_place(page, village)
    page.get_by_role("link", name="Respected citizens (roster)").click()
    roster_url = page.url
    page.get_by_role("link", name="Enrol a contact").click()
    page.get_by_label("Name (required)", exact=True).fill(name)
    page.get_by_label("Mobile number").fill(mobile)
    page.get_by_label("Uses WhatsApp on this number").check()
    page.get_by_label("Category").select_option(index=1)
    pages.check(page, "enrol")
    page.get_by_role("button", name="Enrol contact").click()
    expect(page.get_by_role("status").first).to_be_visible()
    pending = page.locator("section[aria-labelledby=pending-heading]")
    expect(pending.get_by_text(name)).to_be_visible()

    asp = pages.signed_in(ASP)
    asp.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Approvals")
    ).click()
    asp.locator("details.filter-box summary").click()
    asp.get_by_label("Police station").select_option(label="Baraut")
    asp.get_by_role("button", name="Filter").click()
    asp.get_by_label("Village or ward").select_option(label=village)
    asp.get_by_role("button", name="Filter").click()
    asp.wait_for_url(re.compile(r"/enrolments/\?.*place=\d"))
    pages.check(asp, "approvals")
    row = asp.locator("tr", has_text=name)
    expect(row).to_have_count(1)
    row.get_by_role("button", name="Approve").click()
    expect(asp.get_by_role("status").first).to_contain_text("is approved")
    expect(asp.locator("tr", has_text=name)).to_have_count(0)

    page.goto(roster_url)
    active = page.locator("section[aria-labelledby=active-heading]")
    expect(active.get_by_text(name)).to_be_visible()


INCIDENT = {
    "phone": "Rumour of a clash at the Baraut Patti fields (phone)",
    "desktop": "Rumour of a clash at the Baraut Patti fields (desktop)",
}


def test_report_an_incident_call_contacts_and_up112_reviews_it(pages, screen):
    """The station opens an incident for two villages, records calls from the call sheet and
    sets the verdict; a UP-112 supervisor finds it in the statewide feed and reviews it."""
    page = pages.signed_in(STATION[screen])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    page.wait_for_url(re.compile(r"/incidents/$"))
    pages.check(page, "feed")
    page.get_by_role("link", name="Report an incident").click()
    assert fill_incident_report(page, "Baraut Patti", INCIDENT[screen]) == 2
    pages.check(page, "report")
    page.get_by_role("button", name="Open the incident").click()
    expect(page.locator(".incident-summary")).to_have_text(INCIDENT[screen])
    reference = page.locator("h1").inner_text().split()[0]
    pages.check(page, "incident")

    page.get_by_role("link", name="Call sheet").click()
    page.wait_for_url(re.compile(r"/calls$"))
    pages.check(page, "call-sheet")
    for outcome in ("Denied", "No answer"):
        card = page.locator(".call-card:not(.call-card-done)").first
        card.locator("input[name=said]").fill("Nothing happened here, all calm.")
        card.get_by_role("button", name=outcome).click()
        expect(page.get_by_role("status").first).to_contain_text(f"Call recorded: {outcome}")
    expect(page.locator(".call-card-done")).to_have_count(2)

    page.get_by_role("link", name=reference).click()
    status = page.get_by_label("New status")
    if (
        status.locator("option[value=verifying]").count()
        and not status.locator("option[value=found_false]").count()
    ):
        status.select_option("verifying")
        page.get_by_role("button", name="Change status").click()
    page.get_by_label("New status").select_option("found_false")
    page.get_by_label("Note").first.fill("The contacts deny it: the rumour is false.")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("h1")).to_contain_text("Found false")

    # The supervisor finds it at the top of the statewide feed (newest report first); the
    # review queue, oldest first, holds it too, after the demo's older unreviewed incidents.
    supervisor = pages.signed_in(UP112)
    supervisor.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    supervisor.get_by_role("link", name="Review queue").click()
    supervisor.wait_for_url(re.compile(r"/incidents/review$"))
    pages.check(supervisor, "review-queue")
    supervisor.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    supervisor.wait_for_url(re.compile(r"/incidents/$"))
    pages.check(supervisor, "statewide-feed")
    supervisor.get_by_role("link", name=reference).click()
    supervisor.get_by_label("Review comment").fill("Verified quickly; good calls.")
    supervisor.get_by_role("button", name="Mark reviewed").click()
    expect(supervisor.locator(".facts")).to_contain_text(f"by {UP112.name}")
    pages.check(supervisor, "reviewed")
