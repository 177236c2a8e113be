"""A station's WhatsApp group in a real browser, on a phone (360x740) and a desktop: add the
group, reconcile it from a Hindi chat export, read the three lists in English and Hindi, and
open the split of the roster. No page scrolls sideways on the phone.
"""

from pathlib import Path

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

CHAT = Path(__file__).parent.parent / "data" / "whatsapp" / "chat_android_hi_dmy.txt"


def test_add_a_group_reconcile_it_from_a_chat_export_and_open_the_split(pages, screen):
    page = pages.signed_in(station_login(screen))
    page.goto("/whatsapp-groups/")
    expect(page.locator("h1")).to_contain_text("WhatsApp groups")
    pages.check(page, "whatsapp-groups")
    page.get_by_role("link", name="Add a group").click()
    page.get_by_label("Group name (as on WhatsApp)").fill(f"Baraut Shanti Samiti {screen}")
    page.get_by_label("Purpose").fill("Village heads")
    pages.check(page, "whatsapp-group-new")
    page.get_by_role("button", name="Save the group").click()
    expect(page.locator("h1")).to_have_text(f"Baraut Shanti Samiti {screen}")
    pages.check(page, "whatsapp-group")
    page.get_by_label("Chat export (.txt), contacts (.vcf) or list (.csv)").set_input_files(CHAT)
    page.get_by_role("button", name="Reconcile with the roster").click()
    expect(page.locator("h1")).to_contain_text("Reconciliation of")
    expect(page.locator("#unmatched + p + ul")).to_contain_text("रमेश कुमार")
    expect(page.locator("#not-on-roster")).to_contain_text("Not on the roster (3)")
    pages.check(page, "whatsapp-reconciliation")
    page.get_by_role("button", name="हिन्दी").click()
    expect(page.locator("#missing")).to_contain_text("समूह में नहीं")
    pages.check(page, "whatsapp-reconciliation-hi")
    page.get_by_role("link", name="व्हाट्सऐप समूह").first.click()
    page.get_by_role("link", name="रोस्टर को समूहों में बाँटें").click()
    expect(page.locator("h1")).to_have_text("रोस्टर को समूहों में बाँटें")
    pages.check(page, "whatsapp-split-hi")
    page.get_by_role("button", name="English").click()
