"""Buying tickets in the storefront, in Chromium: the whole way from the home page to the
confirmation, a declined card, a hold that runs out, and the best seats found for the buyer."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import expect

from payments.models import Payment, PaymentStatus
from ticketing.inventory.models import SeatClaim
from ticketing.money import amount_with_code
from ticketing.orders.models import OrderStatus
from ticketing.screenings.models import Seat
from ticketing.storefront import formats

from . import data
from .support import wait_until


def euros(cents: int) -> str:
    return formats.money(cents, "EUR", "en")


def test_a_buyer_books_two_seats_from_the_home_page_to_the_confirmation(page, mailoutbox):
    w = data.world()
    adult, child = w.price("adult"), w.price("child")
    fee = 2 * w.cinema.booking_fee
    total = adult + child + fee  # €12.90 + €6.90 + €1.00

    # Home -> the film -> tomorrow's 19:30.
    page.goto(w.home_path)
    page.get_by_role("link", name=w.film.title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(w.film.title)
    day = page.get_by_role("region", name=formats.day_long(w.day, "en"))
    day.get_by_role("link", name=re.compile(r"^19:30")).click()
    expect(page).to_have_url(re.compile(rf"{w.map_path}$"))
    expect(page.get_by_role("heading", name="Or choose your seats")).to_be_visible()

    # Two seats, one Adult and one Child; the total counts the booking fee.
    data.choose_seats(page, "C4", "C5")
    expect(page.get_by_label("Ticket type for seat C4")).to_have_value(
        str(w.ticket_type("adult").pk)
    )
    page.get_by_label("Ticket type for seat C5").select_option(label="Child (under 15)")
    totals = page.locator("[data-totals]")
    expect(totals.locator("[data-subtotal]")).to_have_text(euros(adult + child))
    expect(totals.locator("[data-fee]")).to_have_text(euros(fee))
    expect(totals.locator("[data-total]")).to_have_text(euros(total))
    expect(page.get_by_role("button", name="Hold 2 seats")).to_be_visible()
    hold_id = data.hold_seats(page)

    # Checkout: the countdown runs; the types chosen on the map are kept.
    timer = page.get_by_role("timer")
    expect(timer).to_be_visible()
    expect(timer).to_contain_text(re.compile(r"Seats held for\s+\d{1,2}:\d\d"))
    expect(page.get_by_label("Ticket type for seat C5")).to_have_value(
        str(w.ticket_type("child").pk)
    )
    expect(page.locator("[data-total]")).to_have_text(euros(total))
    data.fill_details(page)
    data.continue_to_payment(page)
    expect(page.get_by_role("button", name=f"Pay {amount_with_code(total, 'EUR')}")).to_be_visible()
    data.pay_on_sandbox(page)

    # The confirmation: two tickets with their QR codes, a calendar entry, the order page.
    data.expect_confirmed(page)
    expect(page.get_by_role("heading", name="You're all set. Enjoy the film!")).to_be_visible()
    tickets = page.get_by_role("list", name="Tickets").get_by_role("listitem")
    expect(tickets).to_have_count(2)
    for label in ("C4", "C5"):
        qr = page.get_by_role("img", name=f"QR code of the ticket for seat {label}")
        expect(qr).to_be_visible()
        assert qr.evaluate("el => el.tagName.toLowerCase()") == "svg"
    expect(tickets.filter(has_text="Child (under 15)")).to_have_count(1)

    calendar = page.get_by_role("link", name="Add to calendar")
    answer = page.request.get(calendar.get_attribute("href"))
    assert answer.ok
    assert answer.headers["content-type"].startswith("text/calendar")
    with page.expect_download() as download:
        calendar.click()
    assert download.value.suggested_filename.endswith(".ics")
    ics = download.value.path().read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR") and w.film.title in ics.replace("\r\n ", "")

    order = data.order_of(hold_id)
    assert order.status == OrderStatus.PAID
    assert (order.subtotal, order.booking_fee, order.total) == (adult + child, fee, total)
    assert sorted(t.seat_label for t in order.tickets.all()) == ["C4", "C5"]
    assert order.customer_email == data.BUYER_EMAIL
    wait_until(lambda: mailoutbox, "no confirmation email was sent")
    assert [m.to for m in mailoutbox] == [[data.BUYER_EMAIL]]
    assert order.code in mailoutbox[0].subject + mailoutbox[0].body

    page.get_by_role("link", name="Open your order page").click()
    expect(page).to_have_title(re.compile(re.escape(order.code)))
    expect(page.get_by_role("img", name=re.compile("QR code of the ticket"))).to_have_count(2)


def test_a_declined_card_keeps_the_seats_held_and_paying_again_succeeds(page, mailoutbox):
    w = data.world()
    page.goto(w.map_path)
    data.choose_seats(page, "B5", "B6")
    hold_id = data.hold_seats(page)
    data.fill_details(page)
    data.continue_to_payment(page)
    data.pay_on_sandbox(page, data.SANDBOX_DECLINED)

    expect(page.get_by_role("heading", name="Your payment did not go through")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your card was declined.")
    expect(alert).to_contain_text("Your seats are still held for you")
    expect(page.get_by_role("timer")).to_be_visible()

    order = data.order_of(hold_id)
    assert order.status == OrderStatus.PENDING_PAYMENT
    seats = [w.seat_id("B5"), w.seat_id("B6")]
    live = SeatClaim.objects.filter(
        screening=w.screening, seat_id__in=seats, expires_at__gt=timezone.now()
    )
    assert live.count() == 2, "the declined card let the seats go"
    assert not mailoutbox

    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(data.SANDBOX_URL)
    data.pay_on_sandbox(page, data.SANDBOX_OK)
    data.expect_confirmed(page)
    expect(page.get_by_role("list", name="Tickets").get_by_role("listitem")).to_have_count(2)

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    statuses = list(Payment.objects.filter(order=order).order_by("created_at"))
    assert [p.status for p in statuses] == [PaymentStatus.FAILED, PaymentStatus.SUCCEEDED]
    wait_until(lambda: mailoutbox, "no confirmation email was sent")
    assert len(mailoutbox) == 1


def test_when_the_hold_runs_out_checkout_says_so_and_the_seats_are_free_again(page):
    w = data.world()
    page.goto(w.map_path)
    data.choose_seats(page, "C7", "C8")
    hold_id = data.hold_seats(page)
    checkout_url = page.url

    data.expire_soon(hold_id, 4)
    page.reload()
    clock = page.get_by_role("timer")
    expect(clock).to_contain_text(re.compile(r"0:0[0-4]"))

    expired = page.get_by_role("alert")
    expect(expired).to_contain_text("Time is up", timeout=8_000)
    again = expired.get_by_role("link", name="Choose seats again")
    expect(again).to_be_visible()
    expect(again).to_be_focused()
    expect(clock).to_be_hidden()
    expect(page.get_by_role("button", name="Continue to payment")).to_be_hidden()
    expect(page.locator("form.checkout-form")).to_be_hidden()
    expect(page.locator("form.checkout-form [name=email]")).to_be_disabled()

    response = page.goto(checkout_url)
    assert response is not None and response.status == 410
    expect(
        page.get_by_role("heading", name="Time is up: your seats have been released")
    ).to_be_visible()
    page.get_by_role("link", name="Choose seats again").click()
    expect(page).to_have_url(re.compile(rf"{w.map_path}$"))
    for label in ("C7", "C8"):
        box = page.get_by_role("checkbox", name=data.seat_name(label), exact=True)
        expect(box).to_be_enabled()
        expect(box).not_to_be_checked()
    expect(page.get_by_text("You are holding")).to_have_count(0)


def test_best_available_finds_three_seats_together_in_one_row(page):
    w = data.world()
    page.goto(w.map_path)
    page.get_by_label("Number of seats").select_option("3")
    page.get_by_role("button", name="Find the best seats together").click()
    page.wait_for_url(data.CHECKOUT_URL)
    hold_id = data.CHECKOUT_URL.search(page.url).group(1)

    headers = page.locator("table.ticket-table tbody").get_by_role("rowheader")
    expect(headers).to_have_count(3)
    labels = [re.match(r"([A-Z]+)(\d+)", text.strip()) for text in headers.all_inner_texts()]
    assert all(labels), headers.all_inner_texts()
    assert len({m[1] for m in labels}) == 1, "the seats are not in one row"
    numbers = sorted(int(m[2]) for m in labels)
    assert numbers == list(range(numbers[0], numbers[0] + 3)), numbers

    # Side by side on the map too: no aisle between them.
    from ticketing.inventory.models import Hold

    seats = Seat.objects.filter(pk__in=Hold.objects.get(pk=hold_id).seat_ids)
    xs = sorted(seats.values_list("x", flat=True))
    assert len(set(seats.values_list("y", flat=True))) == 1
    assert xs == list(range(xs[0], xs[0] + 3)), xs
