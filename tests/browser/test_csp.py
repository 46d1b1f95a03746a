"""The site under its Content-Security-Policy, in Chromium: a buyer's whole way (home, film, seat
map while it polls, checkout, the sandbox's payment page, confirmation, order page), the API
docs and the staff admin load with nothing blocked. The browser says what it blocks on the
console and with a `securitypolicyviolation` event; both are collected here."""

from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from tests.staff.codes import current_code

from . import data

VIOLATION = "Content Security Policy"
# Blocked inline code raises an event in the page; the page's own scripts do not see it.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
  + ` at ${e.sourceFile || e.documentURI}:${e.lineNumber}`));
"""


class Watch:
    """What the browser blocked, and which pages came without a policy."""

    def __init__(self, page: Page):
        self.blocked: list[str] = []
        self.unprotected: list[str] = []
        self.pages = 0
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if VIOLATION in message.text:
            self.blocked.append(message.text)

    def _response(self, response) -> None:
        if response.request.resource_type == "document":
            self.pages += 1
            if "content-security-policy" not in response.headers:
                self.unprotected.append(response.url)

    def assert_clean(self, *, pages: int) -> None:
        assert not self.blocked, "blocked by the CSP:\n" + "\n".join(self.blocked)
        assert not self.unprotected, f"pages without a policy: {self.unprotected}"
        assert self.pages >= pages


@pytest.fixture
def watch(page) -> Watch:
    return Watch(page)


def test_the_watch_sees_what_the_policy_blocks(page, watch):
    page.goto("/")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.head.appendChild(script);
          document.body.setAttribute("style", "outline: 1px solid red");
        }"""
    )
    for _ in range(50):  # the browser's reports arrive as events: let them in
        if len(watch.blocked) >= 2:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("() => window.inlineRan") is None
    assert any("script-src" in text for text in watch.blocked), watch.blocked
    assert any("style-src" in text for text in watch.blocked), watch.blocked


def test_a_buyers_whole_way_runs_with_nothing_blocked(page, watch, settings):
    settings.MARQUEE = {**settings.MARQUEE, "SEAT_MAP_POLL_MS": 200}
    w = data.world()

    page.goto(w.home_path)
    art = page.locator(".poster-art").first
    expect(art).to_be_visible()
    assert art.evaluate("el => getComputedStyle(el).getPropertyValue('--hue').trim()") != ""
    page.get_by_role("link", name=w.film.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w.film.title)

    # The seat map: laid out by the nonce'd column count and the aisle's empty cells, and
    # polling (a few rounds at 200 ms) without a refused connection.
    page.goto(w.map_path)
    seatmap = page.locator("#seatmap")
    assert seatmap.evaluate("el => getComputedStyle(el).getPropertyValue('--cols').trim()") == "11"
    before, after = (
        page.get_by_role("checkbox", name=data.seat_name(label), exact=True).locator("..")
        for label in ("C6", "C7")
    )
    left, right = before.bounding_box(), after.bounding_box()
    assert right["x"] - left["x"] > 1.5 * left["width"], "no aisle between C6 and C7"
    for _ in range(3):
        with page.expect_response(re.compile(rf"/screenings/{w.screening.pk}/seats")) as poll:
            pass
        assert poll.value.ok

    data.choose_seats(page, "C4", "C5")
    data.hold_seats(page)
    data.fill_details(page)
    data.continue_to_payment(page)
    data.pay_on_sandbox(page)
    data.expect_confirmed(page)
    page.get_by_role("link", name="Open your order page").click()
    expect(page.get_by_role("img", name=re.compile("QR code of the ticket"))).to_have_count(2)

    watch.assert_clean(pages=7)


def test_the_api_docs_run_with_nothing_blocked(page, watch):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Marquee partner API")
    films = page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/films/$"))
    films.first.click()
    expect(page.get_by_role("button", name="Try it out").first).to_be_visible()
    watch.assert_clean(pages=1)


def test_the_staff_admin_runs_with_nothing_blocked(page, watch):
    w = data.world()
    get_user_model().objects.create_superuser("csp-staff", "staff@example.com", "a-long-pass-1")
    page.goto("/admin/login/")  # the staff sign-in: password, then setting up the phone
    page.get_by_label("Username").fill("csp-staff")
    page.get_by_label("Password").fill("a-long-pass-1")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".otp-qr svg")).to_be_visible()
    secret = page.locator(".otp-secret code").inner_text().replace(" ", "")
    page.get_by_label("The code the app shows now").fill(current_code(b32decode(secret).hex()))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your backup codes")).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    for path in (
        "/admin/screenings/screening/",
        f"/admin/screenings/screening/{w.screening.pk}/change/",
        "/admin/promotions/campaign/add/",
    ):
        page.goto(path)
        expect(page.locator("#content")).to_be_visible()
    watch.assert_clean(pages=5)
