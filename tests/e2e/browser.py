"""Helpers of the browser tests: screen sizes, demo sign-ins, pages per test, and the checks
every main page gets (no sideways scrolling on a phone, a screenshot, axe-core, page weight).

Nothing here imports Playwright, so the test modules load without it and are skipped with a
reason instead of failing to import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTEFACTS = HERE / "artefacts"
MAX_SHOT_HEIGHT = 6000  # CSS pixels
NO_PLAYWRIGHT = "browser tests: Playwright for Python is not installed (pip install -e '.[dev]')"
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"

# Every journey runs at both: a cheap Android phone and an office desktop.
SCREENS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


# ---- demo posts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    """One demo post and the officer who signs in on it."""

    title: str
    cug: str  # E.164
    pno: str
    name: str


def demo_login(title_en: str, pno: str | None = None) -> DemoLogin:
    """The demo post titled ``title_en`` (``cplan.devdata.demo_people``) and its officer."""
    from cplan.devdata.demo_people import DEMO_POSTS

    spec = next(spec for spec in DEMO_POSTS if spec.title_en == title_en)
    officer_pno, name, _name_hi, _rank = next(o for o in spec.officers if pno in (None, o[0]))
    return DemoLogin(title=spec.title_en, cug=spec.cug, pno=officer_pno, name=name)


# The station post each screen's journeys use (the Baraut desk on a phone, its SHO at a desk).
# The browser keeps one signed-in state per CUG number, so a post is always the same officer.
STATION_POSTS = {"phone": ("Baraut station desk", "124000006"), "desktop": ("SHO Baraut", None)}


def station_login(screen: str) -> DemoLogin:
    return demo_login(*STATION_POSTS[screen])


# ---- pages at one screen size ------------------------------------------------------------------


class Pages:
    """New browser pages at one screen size, each in its own context (own cookies and cache).

    ``states`` (shared by the whole run) keeps the cookies of every post that has signed in, since
    a CUG number accepts a new code only once a minute.
    """

    def __init__(self, browser, server, screen, states, artefacts, test_name):
        self.browser, self.server, self.screen = browser, server, screen
        self._states, self._artefacts, self._test_name = states, artefacts, test_name
        self._contexts = []

    @property
    def phone(self) -> bool:
        return self.screen == "phone"

    def new(self, state=None, **options):
        options = {
            "locale": "en-IN",
            "timezone_id": "Asia/Kolkata",
            **SCREENS[self.screen],
            **options,
        }
        context = self.browser.new_context(base_url=self.server.url, storage_state=state, **options)
        context.set_default_timeout(15_000)
        self._contexts.append(context)
        return context.new_page()

    def sign_in(self, post, **options):
        """A new page signed in as ``post`` through the three sign-in pages."""
        page = self.new(**options)
        SignIn(page, self.server, post).complete()
        self._states[post.cug] = page.context.storage_state()
        return page

    def signed_in(self, post, **options):
        """A new page on the home page, signed in as ``post``: through the sign-in pages the
        first time in this run, afterwards with the cookies kept from then."""
        if post.cug not in self._states:
            return self.sign_in(post, **options)
        page = self.new(state=self._states[post.cug], **options)
        page.goto("/")
        assert "/auth/" not in page.url, f"{post.title} is no longer signed in"
        return page

    def check(self, page, name):
        """What every main page gets: on the phone no sideways scrolling; a screenshot."""
        if self.phone:
            assert_no_sideways_scroll(page, name)
        path = self._artefacts / f"{self._test_name}-{self.screen}-{name}.png"
        # Of a very long page (a station's whole call sheet), only the first screen: the whole
        # of it takes seconds to paint.
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.screenshot(path=str(path), full_page=height <= MAX_SHOT_HEIGHT)

    def close(self):
        for context in self._contexts:
            context.close()


def assert_no_sideways_scroll(page, name):
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{name}: the page is {widths[0]} px wide on a {widths[1]} px screen "
        f"(scrolls sideways): {page.url}"
    )


# ---- signing in -------------------------------------------------------------------------------


class SignIn:
    """The three sign-in pages: CUG number, the code sent by SMS, then PNO and password.

    In English the fields are found by their labels (which proves the labels are tied to
    them); in Hindi (``english=False``) by their ids.
    """

    def __init__(self, page, server, post, english=True):
        self.page, self.server, self.post, self.english = page, server, post, english

    def _field(self, label, field_id):
        return self.page.get_by_label(label) if self.english else self.page.locator(f"#{field_id}")

    def _submit(self, label):
        if self.english:
            self.page.get_by_role("button", name=label).click()
        else:
            self.page.locator("main form #submit").click()

    def ask_for_code(self):
        if "/auth/sign-in" not in self.page.url:
            self.page.goto("/auth/sign-in")
        # Typed the way people write it: a 0 in front and a space in the middle.
        local = self.post.cug[3:]
        self._field("CUG mobile number of your post", "cug").fill(f"0{local[:5]} {local[5:]}")
        self.server.forget_code_limits(self.post.cug)
        self._sent_before = len(self.server.texts_to(self.post.cug))
        self._submit("Send code")
        self.page.wait_for_url("**/auth/code")

    def enter_code(self, code=None):
        sent_before = getattr(self, "_sent_before", 0)
        self._field("6-digit code", "code").fill(
            code or self.server.last_code(self.post.cug, after=sent_before)
        )
        self._submit("Verify")
        if code is None:
            self.page.wait_for_url("**/auth/officer")
        else:
            self.page.wait_for_load_state()

    def identify(self):
        from cplan.devdata.demo_people import DEMO_PASSWORD

        self._field("Your PNO", "pno").fill(self.post.pno)
        self._field("Your password", "password").fill(DEMO_PASSWORD)
        self._submit("Sign in")
        self.page.wait_for_url(re.compile(r"^(?!.*/auth/).*$"))

    def complete(self):
        self.ask_for_code()
        self.enter_code()
        self.identify()


# ---- accessibility and weight ------------------------------------------------------------------


def axe_violations(page, impacts=("serious", "critical"), exclude=()):
    """axe-core's violations of ``impacts`` on ``page``, one line each (rule, help, elements);
    ``exclude`` lists CSS selectors of parts not to check.

    The page's context must be made with ``bypass_csp=True``: the CSP forbids the inline script
    Playwright injects.
    """
    page.add_script_tag(path=str(AXE_SCRIPT))
    result = page.evaluate(
        "exclude => axe.run({exclude: exclude.map(s => [s])}, {resultTypes: ['violations']})",
        list(exclude),
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} -> "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in impacts
    ]


# "name: N requests, K KB" of each page weighed in this run, for the terminal summary.
WEIGHED: list[str] = []


class Weigher:
    """Counts the requests a page makes and the bytes they move (headers and encoded bodies)."""

    def __init__(self, page):
        self.requests = []
        page.on("requestfinished", lambda request: self.requests.append(request))

    def total(self):
        size = 0
        for request in self.requests:
            sizes = request.sizes()
            size += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return len(self.requests), size


# ---- shared steps -----------------------------------------------------------------------------


def fill_incident_report(page, query, summary):
    """On "Report an incident" (in either language): find places by ``query``, tick every one
    found (two for "Baraut Patti"), describe a rumour reported just now through UP-112."""
    finder = page.locator("form.place-finder")
    finder.locator("input[name=q]").fill(query)
    finder.get_by_role("button").click()
    places = page.locator(".incident-form fieldset input[type=checkbox]")
    places.first.wait_for()
    for box in places.all():
        box.check()
    form = page.locator("form.incident-form")
    form.locator("#kind").select_option("rumour")
    form.locator("#severity").select_option("high")
    now = page.evaluate("() => new Date(Date.now() + 5.5 * 3600e3).toISOString().slice(0, 16)")
    form.locator("#occurred_at").fill(now)
    form.locator("#reported_at").fill(now)
    form.locator("#source").select_option("up112_call")
    form.locator("#summary").fill(summary)
    return places.count()
