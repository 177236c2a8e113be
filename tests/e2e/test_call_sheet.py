"""The call sheet in a real browser (issue 17): a tap on an outcome records the call without
reloading the sheet (static/js/call-sheet.js), the card shows the outcome, the tally counts it,
the order of the sheet and what was typed in the other cards stay; without scripts the same tap
posts the form and the sheet comes back with the message."""

import re

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, fill_incident_report, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402


def open_call_sheet(page, summary):
    """Report a rumour at Baraut Patti and open its call sheet."""
    page.goto("/incidents/new")
    fill_incident_report(page, "Baraut Patti", summary)
    page.get_by_role("button", name="Open the incident").click()
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    page.get_by_role("link", name="Call sheet").click()
    page.wait_for_url(re.compile(r"/calls$"))
    return page.url


def card_ids(page):
    return page.locator(".call-card").evaluate_all("cards => cards.map(card => card.id)")


def test_a_call_is_recorded_in_place_and_the_sheet_keeps_its_order(pages, screen):
    page = pages.signed_in(station_login(screen))
    open_call_sheet(page, f"Call sheet in place ({screen})")
    before = card_ids(page)
    assert len(before) >= 4
    page.evaluate("() => { window.notReloaded = true; }")
    third = page.locator(f"#{before[2]}")
    third.locator("input[name=said]").fill("Typed here, not sent yet")
    second = page.locator(f"#{before[1]}")
    second.locator("input[name=said]").fill("All calm in the village")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        second.get_by_role("button", name="Denied").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("x-cplan-fragment") == "1"
    expect(page.locator("#call-status")).to_have_text("Call recorded: Denied.")
    expect(page.locator(f"#{before[1]}")).to_have_class(re.compile(r"\bcall-card-done\b"))
    expect(page.locator(f"#{before[1]} .badge.tally-denied")).to_have_text("Denied")
    expect(page.locator(".tally-denied .tally-count")).to_have_text("1")
    assert page.evaluate("() => window.notReloaded === true")  # swapped in place, no reload
    assert card_ids(page) == before  # the contact just called did not jump
    assert third.locator("input[name=said]").input_value() == "Typed here, not sent yet"
    if pages.phone:  # the message stays in sight at the bottom of a long sheet
        box = page.locator("#call-status").bounding_box()
        assert box["y"] + box["height"] <= page.viewport_size["height"] + 1

    # The card swapped in takes the next call too: the contact called back and confirmed.
    page.locator(f"#{before[1]}").get_by_role("button", name="Confirmed").click()
    expect(page.locator("#call-status")).to_have_text("Call recorded: Confirmed.")
    expect(page.locator(".tally-confirmed .tally-count")).to_have_text("1")
    expect(page.locator(".tally-denied .tally-count")).to_have_text("0")
    assert page.evaluate("() => window.notReloaded === true")
    pages.check(page, "call-sheet-in-place")

    # The first call moved the new incident to "verifying" by itself.
    page.locator(".kicker a").first.click()
    expect(page.locator("h1")).to_contain_text("Verifying")


def test_without_scripts_an_outcome_posts_the_form_and_reloads_the_sheet(pages, screen):
    post = station_login(screen)
    page = pages.signed_in(post)
    url = open_call_sheet(page, f"Call sheet without scripts ({screen})")
    plain = pages.new(state=page.context.storage_state(), java_script_enabled=False)
    plain.goto(url)
    first = card_ids(plain)[0]
    plain.locator(f"#{first}").get_by_role("button", name="No answer").click()
    plain.wait_for_url(re.compile(rf"/calls#{first}$"))
    expect(plain.locator(".flash-success")).to_have_text("Call recorded: No answer.")
    expect(plain.locator(f"#{first}")).to_have_class(re.compile(r"\bcall-card-done\b"))


def test_the_incident_form_finds_the_stations_villages_as_they_are_typed(pages, screen):
    page = pages.signed_in(station_login(screen))
    page.goto("/incidents/new")
    expect(page.locator("#place-select")).to_have_count(0)  # the long list gives way to search
    assert page.locator("#place-choices input[type=checkbox]").count() == 0
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator("#summary").fill("Typed before looking for the places")
    page.locator("form.place-finder input[name=q]").press_sequentially("Baraut Pat", delay=60)
    found = page.locator("#place-choices input[type=checkbox]")
    expect(found).to_have_count(2)  # Baraut Patti of two stations' villages, none ticked
    assert not any(box.is_checked() for box in found.all())
    found.first.check()
    chosen = found.first.get_attribute("value")
    box = page.locator("form.place-finder input[name=q]")
    box.fill("")
    box.press_sequentially("Bohla", delay=60)
    expect(page.locator("#place-choices label")).to_have_count(2)  # the ticked one stays
    expect(page.locator(f"#place-choices input[value='{chosen}']")).to_be_checked()
    box.fill("99")  # nothing of the station is named so
    expect(page.locator("#place-status")).not_to_be_empty()
    assert page.evaluate("() => window.notReloaded === true")
    assert page.locator("#summary").input_value() == "Typed before looking for the places"
    pages.check(page, "incident-form-place-search")
