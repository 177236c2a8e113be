"""The phone's header (issue 17): at 360x740 in Hindi it takes less than a sixth of the screen,
and its navigation shows that it scrolls sideways (the last link it holds is cut at the edge
and faded), so a constable sees there is more than the first few sections."""

import pytest

from tests.e2e.browser import NO_PLAYWRIGHT, demo_login, station_login

pytest.importorskip("playwright", reason=NO_PLAYWRIGHT)
from playwright.sync_api import expect  # noqa: E402

POSTS = {"station": None, "district": demo_login("SP office Baghpat")}


@pytest.mark.parametrize("who", list(POSTS))
def test_the_phone_header_takes_under_a_sixth_of_the_screen_in_hindi(pages, screen, who):
    if not pages.phone:
        pytest.skip("the header's height is a phone's concern (360x740)")
    page = pages.signed_in(POSTS[who] or station_login(screen))
    page.get_by_role("button", name="हिन्दी").click()
    expect(page.locator("html")).to_have_attribute("lang", "hi")
    try:
        header = page.locator("header.topbar").bounding_box()
        screen_height = page.viewport_size["height"]
        print(f"{who}: header {header['height']:.0f} px of {screen_height}")
        assert header["height"] < screen_height / 6, (
            f"the header is {header['height']:.0f} px tall on a {screen_height} px screen"
        )
        nav = page.get_by_role("navigation", name="मुख्य")
        widths = nav.locator("ul").evaluate("list => [list.scrollWidth, list.clientWidth]")
        if widths[0] > widths[1]:  # more sections than the screen holds: it must show so
            cut = nav.locator("li").evaluate_all(
                "items => items.map(item => item.getBoundingClientRect())"
                ".filter(box => box.left < innerWidth && box.right > innerWidth).length"
            )
            assert cut == 1, "no link is cut at the screen's edge: nothing shows it scrolls"
            fade = nav.evaluate("nav => getComputedStyle(nav, '::after').backgroundImage")
            assert "gradient" in fade
        pages.check(page, f"header-{who}-hi")
        # The account folds under the officer's name: one tap shows the sign-out.
        sign_out = page.get_by_role("button", name="साइन आउट")
        expect(sign_out).to_be_hidden()
        page.locator(".account-menu summary").click()
        expect(sign_out).to_be_visible()
        assert sign_out.bounding_box()["height"] >= 44
        page.locator(".account-menu summary").click()
    finally:
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
