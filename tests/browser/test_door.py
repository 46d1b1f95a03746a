"""The door page in Chromium, on a phone, against the real check-in API: a fake camera playing a
ticket's QR code admits it and then says "already admitted"; a typed code (a hardware scanner
types) is checked like a scanned one; a refunded ticket is refused with its reason; and with the
network gone, a signed code is admitted on the device and queued, a tampered one refused, and
the queue sent when the network returns, the server counting the ticket in once.

The camera: Chromium's `--use-fake-device-for-media-stream` with
`--use-file-for-fake-video-capture=<a .y4m of the QR code>` (tests/browser/fake_camera.py) plays
the video in a loop as the rear camera; Linux Chromium has no BarcodeDetector of its own, so the
page reads it with the vendored ponyfill and its WebAssembly, served from our static files.
Each video needs a browser of its own: `launch_with_camera` launches one.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing import ticket_signing
from ticketing.checkin.models import CheckIn
from ticketing.checkin.services import scanner_create
from ticketing.orders.models import Ticket
from ticketing.orders.services import order_mark_paid, order_mark_refunded
from ticketing.partners.services import api_key_revoke
from ticketing.staff import roles

from .fake_camera import blank_video, qr_video
from .support import DESKTOP, PHONE, assert_accessible, screenshot, wait_until

RESULT = "#door-result"
# Each beep is an oscillator of the page's WebAudio context: counted by kind (sine for the high
# admitted beep, square for the low refused ones).
COUNT_BEEPS = """
window.__beeps = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__beeps.push(this.type + " " + this.frequency.value);
  return start.apply(this, args);
};
"""
# A browser whose WebCrypto has no Ed25519.
NO_ED25519 = """
const importKey = SubtleCrypto.prototype.importKey;
SubtleCrypto.prototype.importKey = function (format, key, algorithm, ...rest) {
  if ((algorithm && algorithm.name) === "Ed25519") {
    return Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
  }
  return importKey.call(this, format, key, algorithm, ...rest);
};
"""
# Blocked code raises an event in the page: collected to fail the camera test if the policy
# (which allows WebAssembly on this page only) refused the QR reader anything.
REPORT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


class Door:
    """A cinema with a screening whose doors are open, and paid tickets for it."""

    def __init__(self):
        self.cinema = factories.cinema(time_zone="UTC")
        self.room = factories.auditorium(self.cinema)
        self.screening = factories.screening(self.room, starts_in=timedelta(minutes=15))
        self.user = staff_user(roles.BOX_OFFICE, self.cinema)

    def paid(self, *labels: str) -> list[Ticket]:
        order = factories.pending_order(self.screening, *labels)
        order_mark_paid(order_id=order.pk, actor="test")
        return list(order.tickets.order_by("seat_label"))

    def refunded(self, label: str) -> Ticket:
        (ticket,) = self.paid(label)
        order_mark_refunded(order_id=ticket.order_id, actor="test")
        return ticket

    def code(self, ticket: Ticket) -> str:
        return ticket_signing.sign(code=ticket.code, screening_id=self.screening.pk)

    def session_cookie(self, base_url: str) -> dict:
        client = signed_in(Client(), self.user)
        value = client.cookies[settings.SESSION_COOKIE_NAME].value
        return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": base_url}


def admissions(ticket: Ticket) -> int:
    return CheckIn.objects.filter(ticket=ticket).count()


def tampered(code: str) -> str:
    """The same code with one character of its body changed (the screening or ticket edited)."""
    kid, body, sig = code[len("MQ2:") :].split(".")
    swapped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    return f"MQ2:{kid}.{swapped}.{sig}"


def open_door(page: Page, door: Door) -> Page:
    """The door page, signed in, once its tickets are sold (the page keeps their list)."""
    page.goto("/staff/door/")
    expect(page.get_by_label("Screening")).to_have_value(str(door.screening.pk))
    # The keys and the ticket list are kept for offline once the page has fetched them.
    expect(page.locator("#door-cache")).to_contain_text("Kept for offline")
    return page


def check(page: Page, text: str) -> None:
    """A hardware scanner types the code and Enter into the focused field."""
    field = page.get_by_label("Ticket code")
    expect(field).to_be_focused()
    page.keyboard.insert_text(text)
    page.keyboard.press("Enter")


def next_ticket(page: Page) -> None:
    page.locator(RESULT).click()
    expect(page.locator(RESULT)).to_be_hidden()


@pytest.fixture
def door(db) -> Door:
    return Door()


@pytest.fixture
def launch_with_camera(browser_type, browser_type_launch_args):
    """launch(video) -> a Chromium whose camera plays `video`; closed after the test."""
    launched = []

    def launch(video):
        args = [
            *browser_type_launch_args.get("args", []),
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ]
        browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


@pytest.fixture
def door_phone(phone_page, door, site):
    """A phone signed in as the door's staff member (no camera: a hardware scanner types)."""
    phone_page.context.add_cookies([door.session_cookie(site)])
    return phone_page


def test_the_camera_admits_a_ticket_and_a_second_scan_says_already_admitted(
    launch_with_camera, door, site, tmp_path
):
    (ticket,) = door.paid("C4")
    browser = launch_with_camera(qr_video(door.code(ticket), tmp_path / "ticket.y4m"))
    context = browser.new_context(base_url=site, **{**DESKTOP, **PHONE})
    context.grant_permissions(["camera"], origin=site)
    page = context.new_page()
    page.add_init_script(REPORT_VIOLATIONS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.context.add_cookies([door.session_cookie(site)])
    page.goto("/staff/door/")

    result = page.locator(RESULT)
    expect(result).to_be_visible(timeout=20_000)  # the reader's WebAssembly compiles first
    expect(result).to_have_attribute("data-kind", "admitted")
    expect(result).to_contain_text("Admitted")
    expect(result).to_contain_text("Seat C4 · Adult")
    expect(page.locator("#door-announce")).to_contain_text("Admitted. Seat C4 · Adult")
    screenshot(page, "staff-door-admitted")
    assert admissions(ticket) == 1

    # Still in front of the camera: the same scan, nothing new. Dismissed, the code is read
    # again as a second scan.
    page.wait_for_timeout(1500)
    expect(result).to_have_attribute("data-kind", "admitted")
    next_ticket(page)
    expect(result).to_be_visible(timeout=10_000)
    expect(result).to_have_attribute("data-kind", "already")
    door_name = page.get_by_label("Door").input_value()
    expect(result).to_contain_text("Already admitted")
    expect(result).to_contain_text(re.compile(rf"Admitted at \d\d:\d\d at {door_name}"))
    assert admissions(ticket) == 1
    assert page.evaluate("window.__cspViolations") == []
    assert errors == []
    # The QR reader and its WebAssembly came from our static files, nothing from a CDN.
    assert f"{site}/static/vendor/barcode-detector/zxing_reader.wasm" in requests
    assert [url for url in requests if not url.startswith(site)] == []
    context.close()


def test_the_camera_starts_on_the_rear_camera_and_waits_for_a_code(
    launch_with_camera, door, site, tmp_path
):
    browser = launch_with_camera(blank_video(tmp_path / "floor.y4m"))
    context = browser.new_context(base_url=site, **{**DESKTOP, **PHONE})
    page = context.new_page()
    page.context.add_cookies([door.session_cookie(site)])
    page.goto("/staff/door/")
    expect(page.get_by_text("Hold the ticket's QR code in the frame.")).to_be_visible(
        timeout=20_000
    )
    expect(page.get_by_role("button", name="Camera off")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("Ticket code")).to_be_focused()
    page.evaluate("document.activeElement.blur()")
    screenshot(page, "staff-door-scanning")
    page.get_by_role("button", name="Camera off").click()
    expect(page.get_by_text("The camera is off")).to_be_visible()
    context.close()


def test_a_typed_code_is_admitted_and_a_refunded_ticket_refused_with_its_reason(door_phone, door):
    page = door_phone
    (ticket, printed) = door.paid("B1", "B2")
    refunded = door.refunded("B3")
    page.add_init_script(COUNT_BEEPS)
    open_door(page, door)

    check(page, door.code(ticket))
    result = page.locator(RESULT)
    expect(result).to_have_attribute("data-kind", "admitted")
    expect(result).to_contain_text("Seat B1")
    expect(page.get_by_label("Ticket code")).to_have_value("")
    expect(page.get_by_label("Ticket code")).to_be_focused()  # ready for the next one
    assert page.evaluate("window.__beeps") == ["sine 880"]  # one high beep

    check(page, printed.code)  # the code printed under the QR code, typed by hand
    expect(result).to_have_attribute("data-kind", "admitted")
    expect(result).to_contain_text("Seat B2")

    check(page, door.code(refunded))
    expect(result).to_have_attribute("data-kind", "refused")
    expect(result).to_contain_text("Refused")
    expect(result).to_contain_text("Refunded")
    expect(result).to_contain_text("no longer valid")
    screenshot(page, "staff-door-refused")
    assert admissions(refunded) == 0
    assert page.evaluate("window.__beeps.slice(2)") == ["square 220", "square 220"]  # two low

    check(page, "MQT:no-such-ticket-code-at-all")
    expect(result).to_contain_text("Unknown ticket")
    check(page, "this is not a ticket")
    expect(result).to_contain_text("Invalid code")
    assert admissions(ticket) == 1 and admissions(printed) == 1


def test_a_hardware_scanner_typing_two_tickets_back_to_back_checks_both(door_phone, door):
    first, second = door.paid("C2", "C3")
    page = open_door(door_phone, door)
    for ticket in (first, second):  # the second typed before the first one's answer is in
        page.keyboard.insert_text(door.code(ticket))
        page.keyboard.press("Enter")
    expect(page.locator(RESULT)).to_contain_text("Seat C3")
    wait_until(lambda: admissions(first) == 1 and admissions(second) == 1, "both admitted")


def test_offline_a_browser_without_ed25519_says_it_cannot_verify(door_phone, door):
    page = door_phone
    (ticket,) = door.paid("C1")
    page.add_init_script(NO_ED25519)
    open_door(page, door)
    page.context.set_offline(True)
    check(page, door.code(ticket))
    result = page.locator(RESULT)
    expect(result).to_have_attribute("data-kind", "refused")
    expect(result).to_contain_text("Cannot verify offline")
    check(page, f"MQT:{ticket.code}")  # an old code: online only
    expect(result).to_contain_text("Cannot check offline")
    expect(page.locator("#door-banner")).to_have_text("Offline: 0 scans waiting")


def test_a_ticket_of_another_screening_is_refused_naming_it(door_phone, door):
    later = factories.screening(door.room, starts_in=timedelta(hours=5))
    order = factories.pending_order(later, "A1")
    order_mark_paid(order_id=order.pk, actor="test")
    other = order.tickets.get()
    open_door(door_phone, door)
    check(door_phone, ticket_signing.sign(code=other.code, screening_id=later.pk))
    result = door_phone.locator(RESULT)
    expect(result).to_contain_text("Wrong screening")
    expect(result).to_contain_text(later.film.title)
    assert admissions(other) == 0


def test_offline_a_signed_code_is_admitted_and_queued_a_tampered_one_refused_then_synced(
    door_phone, door
):
    page = door_phone
    first, second = door.paid("D1", "D2")
    refunded = door.refunded("D3")
    open_door(page, door)
    page.context.set_offline(True)
    banner = page.locator("#door-banner")
    expect(banner).to_have_text("Offline: 0 scans waiting")

    result = page.locator(RESULT)
    check(page, door.code(first))
    expect(result).to_have_attribute("data-kind", "admitted")
    expect(result).to_contain_text("Seat D1")
    expect(result).to_contain_text("Offline")
    expect(banner).to_have_text("Offline: 1 scan waiting")

    check(page, door.code(first))
    expect(result).to_have_attribute("data-kind", "already")
    expect(result).to_contain_text("Already admitted")
    expect(result).to_contain_text(re.compile(r"Admitted on this device at \d\d:\d\d at Main door"))

    check(page, tampered(door.code(second)))
    expect(result).to_have_attribute("data-kind", "refused")
    expect(result).to_contain_text("Invalid signature")

    check(page, door.code(refunded))  # the kept list knows it was refunded
    expect(result).to_contain_text("Refunded")

    check(page, door.code(second))
    expect(result).to_contain_text("Seat D2")
    expect(banner).to_have_text("Offline: 2 scans waiting")
    assert admissions(first) == 0 and admissions(second) == 0  # nothing reached the server

    page.context.set_offline(False)
    expect(banner).to_be_hidden(timeout=20_000)
    wait_until(lambda: admissions(first) == 1 and admissions(second) == 1, "the queue synced")
    assert admissions(refunded) == 0
    assert page.evaluate("JSON.parse(localStorage.getItem('mq-door:queue'))") == []

    # Online again, the server has the last word: a second scan of a ticket admitted offline.
    check(page, door.code(first))
    expect(result).to_have_attribute("data-kind", "already")
    assert admissions(first) == 1


def test_an_offline_scan_of_a_ticket_admitted_at_another_door_is_shown_after_the_sync(
    door_phone, door
):
    page = door_phone
    (ticket,) = door.paid("E5")
    open_door(page, door)
    page.context.set_offline(True)

    # While this door has no network, another door, online, admits the ticket...
    other_door = signed_in(Client(), staff_user(roles.BOX_OFFICE, door.cinema))
    answer = other_door.post(
        "/api/v1/checkins/",
        {"code": door.code(ticket), "screening": door.screening.pk, "door": "Door 2"},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    # ... and this one, whose list is from before, lets the same ticket in too.
    check(page, door.code(ticket))
    expect(page.locator(RESULT)).to_have_attribute("data-kind", "admitted")

    page.context.set_offline(False)
    conflicts = page.get_by_role("region", name="Offline scans to look at")
    expect(conflicts).to_be_visible(timeout=20_000)
    expect(conflicts).to_contain_text("Seat E5 was already admitted")
    expect(conflicts).to_contain_text("at Door 2")
    assert admissions(ticket) == 1


def test_the_door_name_is_remembered_on_the_device(door_phone, door):
    page = open_door(door_phone, door)
    page.get_by_label("Door").fill("Door 3")
    page.get_by_label("Door").press("Tab")
    page.reload()
    expect(page.get_by_label("Door")).to_have_value("Door 3")
    (ticket,) = door.paid("A5")
    check(page, door.code(ticket))
    expect(page.locator(RESULT)).to_have_attribute("data-kind", "admitted")
    assert CheckIn.objects.get(ticket=ticket).door == "Door 3"


def test_the_door_page_is_accessible(door_phone, door):
    open_door(door_phone, door)
    assert_accessible(door_phone, "door page")
    (ticket,) = door.paid("A6")
    check(door_phone, door.code(ticket))
    expect(door_phone.locator(RESULT)).to_be_visible()
    assert_accessible(door_phone, "door page with an answer")


def test_a_scanner_phone_checks_tickets_in_with_its_key_alone(phone_page, door):
    """A phone at the door with no one signed in: a manager made it a key (create_scanner), the
    key is typed once and kept on the device; the screenings are its cinema's."""
    key, raw = scanner_create(cinema=door.cinema, name="Door phone 1")
    (ticket,) = door.paid("A7")
    page = phone_page
    page.goto("/staff/door/device/")
    expect(page.get_by_text("No scanner key on this device yet.")).to_be_visible()
    page.get_by_label("Use a scanner key").fill(raw)
    page.get_by_role("button", name="Save key").click()
    expect(page.get_by_label("Screening")).to_have_value(str(door.screening.pk))
    expect(page.locator("#door-cache")).to_contain_text("Kept for offline: 1 ticket")

    page.get_by_label("Ticket code").focus()
    check(page, door.code(ticket))
    expect(page.locator(RESULT)).to_have_attribute("data-kind", "admitted")
    assert CheckIn.objects.get(ticket=ticket).device_id == key.pk

    page.reload()  # the key stays on the device
    expect(page.get_by_text(re.compile(r"checks tickets with a scanner key"))).to_be_attached()
    expect(page.get_by_label("Screening")).to_have_value(str(door.screening.pk))
    assert_accessible(page, "door page of a scanner phone")

    # The phone is lost: a manager revokes its key, and it is refused at once.
    api_key_revoke(key=key)
    (another,) = door.paid("A9")
    page.get_by_label("Ticket code").focus()
    check(page, door.code(another))
    expect(page.locator(RESULT)).to_contain_text("Scanner key refused")
    assert admissions(another) == 0


def test_the_door_page_reloads_without_the_network(door_phone, door):
    page = door_phone
    (ticket,) = door.paid("A8")
    open_door(page, door)
    # The service worker takes the page and its files once it controls the page.
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()
    expect(page.locator("#door-cache")).to_contain_text("Kept for offline")
    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_label("Ticket code")).to_be_visible()
    check(page, door.code(ticket))
    expect(page.locator(RESULT)).to_have_attribute("data-kind", "admitted")
    expect(page.locator("#door-banner")).to_have_text("Offline: 1 scan waiting")
    page.context.set_offline(False)
    wait_until(lambda: admissions(ticket) == 1, "the offline scan reached the server")


def test_signing_out_at_the_door_drops_the_kept_page(door_phone, door):
    page = open_door(door_phone, door)
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()
    page.wait_for_function("caches.has('marquee-door-v1')")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"^(?!.*/staff/door/$)"))
    assert page.evaluate("caches.has('marquee-door-v1')") is False


def test_a_wifi_that_reaches_nothing_is_offline_after_a_few_seconds(door_phone, door):
    """Connected to the lobby's wifi, which no longer reaches the server: the browser thinks it
    is online, the check-in never answers. The door decides on the device after 5 s, and sends
    the scan once the server answers again."""
    (ticket,) = door.paid("E1")
    page = open_door(door_phone, door)
    unanswered = []

    def hold(route):  # held, never answered
        unanswered.append(route)

    page.route("**/api/v1/checkins/", hold)
    check(page, door.code(ticket))
    result = page.locator(RESULT)
    expect(result).to_have_attribute("data-kind", "admitted", timeout=10_000)
    expect(result).to_contain_text("Offline")
    expect(page.locator("#door-banner")).to_have_text("Offline: 1 scan waiting")
    assert unanswered and admissions(ticket) == 0

    page.unroute("**/api/v1/checkins/", hold)
    expect(page.locator("#door-banner")).to_be_hidden(timeout=30_000)  # sent on the next try
    assert admissions(ticket) == 1


def test_offline_a_code_signed_with_an_older_key_still_in_rotation_is_admitted(
    door_phone, door, settings
):
    """Keys rotate: the door keeps every key the server lists, and checks each code with the key
    it names."""
    new, old = ticket_signing.new_key_text("k2026b"), ticket_signing.new_key_text("k2026a")
    settings.MARQUEE_TICKET_SIGNING_KEYS = f"{new},{old}"
    old_key = ticket_signing.parse_keys(old)[0]
    (ticket,) = door.paid("D5")
    settings.MARQUEE_TICKET_SIGNING_KEYS = f"{old}"
    signed_by_old = ticket_signing.sign(code=ticket.code, screening_id=door.screening.pk)
    settings.MARQUEE_TICKET_SIGNING_KEYS = f"{new},{old}"
    assert signed_by_old.startswith(f"MQ2:{old_key.kid}.")

    page = open_door(door_phone, door)
    kept = page.evaluate("JSON.parse(localStorage.getItem('mq-door:keys')).keys.map(k => k.kid)")
    assert kept == ["k2026b", "k2026a"]
    page.context.set_offline(True)
    check(page, signed_by_old)
    expect(page.locator(RESULT)).to_have_attribute("data-kind", "admitted")
    page.context.set_offline(False)
    wait_until(lambda: admissions(ticket) == 1, "the scan signed by the older key synced")


def test_the_door_reads_what_a_scanner_gives_it(door_phone, door):
    """door-core.js's reading of a scanned text, as the page's script sees it."""
    page = open_door(door_phone, door)
    (ticket,) = door.paid("A10")
    signed = door.code(ticket)
    read = page.evaluate(
        """(texts) => texts.map((t) => {
             const p = MarqueeDoorCore.parseCode(t);
             return [p.kind, p.text, p.ticket || null, p.screening || null];
           })""",
        [
            signed,
            "  " + signed.lower()[:4] + signed[4:] + "\n",
            "MQT:" + ticket.code,
            ticket.code,
            "MQ2:only.two",
            "https://example.com/",
            "",
        ],
    )
    assert read == [
        ["signed", signed, ticket.code, door.screening.pk],
        ["signed", signed, ticket.code, door.screening.pk],  # trimmed, prefix in any case
        ["old", "MQT:" + ticket.code, ticket.code, None],
        ["old", "MQT:" + ticket.code, ticket.code, None],  # the printed code, typed
        ["invalid", "MQ2:only.two", None, None],
        ["invalid", "https://example.com/", None, None],
        ["empty", "", None, None],
    ]
