"""The browser test set-up works: Chromium reaches the live server, axe-core runs in pages, and
the sandbox payment page's webhook reaches the live server over HTTP and makes an order paid."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from payments import services
from payments.models import Payment, PaymentStatus
from tests import factories
from ticketing.orders.models import Order, OrderStatus

from .support import assert_accessible, screenshot, wait_until


def test_the_home_page_renders_in_chromium(page, site):
    response = page.goto("/")
    assert response is not None and response.status == 200
    assert page.url == f"{site}/"
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).not_to_be_empty()
    expect(page).to_have_title(re.compile(r"\S"))


def test_the_home_page_has_no_serious_accessibility_violations(page):
    page.goto("/")
    assert_accessible(page, "home page")


def test_a_phone_page_has_a_phone_viewport_and_screenshots_are_written(phone_page, monkeypatch):
    monkeypatch.delenv("MARQUEE_SCREENSHOTS", raising=False)  # never into docs/ from here
    phone_page.goto("/")
    size = phone_page.evaluate(
        "() => [window.innerWidth, window.devicePixelRatio, navigator.maxTouchPoints > 0]"
    )
    assert size == [390, 2, True]
    path = screenshot(phone_page, "smoke-home-phone")
    assert path.parts[-3:] == ("test-results", "screenshots", "smoke-home-phone.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_buyer_pays_on_the_sandbox_page_and_its_webhook_makes_the_order_paid(
    page, site, screening, mailoutbox
):
    order = factories.pending_order(screening, "B4", "B5")
    payment = services.payment_start(
        order_id=order.pk, provider_name="sandbox", return_url=f"{site}/", actor="test"
    )
    assert payment.redirect_url.startswith(f"{site}/payments/sandbox/")

    page.goto(payment.redirect_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pay for order {order.code}")
    assert_accessible(page, "sandbox checkout")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_role("button", name="Pay").click()

    # The sandbox sends the buyer back to the return URL, naming the payment.
    page.wait_for_url(f"{site}/?payment=*")
    assert parse_qs(urlsplit(page.url).query)["payment"] == [payment.provider_ref]

    # The order becomes paid only through the signed webhook, POSTed to the live server.
    def state() -> str:
        return (
            f"order {Order.objects.get(pk=order.pk).status}, "
            f"payment {Payment.objects.get(pk=payment.pk).status}"
        )

    wait_until(
        lambda: Order.objects.filter(pk=order.pk, status=OrderStatus.PAID).exists(),
        lambda: f"the webhook did not make the order paid: {state()}",
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    # ...and the confirmation email went out once (outbox, eager Celery, locmem backend).
    wait_until(lambda: mailoutbox, "no confirmation email was sent")
    assert [m.to for m in mailoutbox] == [["buyer@example.com"]]
