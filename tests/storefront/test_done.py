"""The page the payment provider sends the buyer back to: confirming, declined (and paying
again), paid with the tickets, or expired."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment, PaymentStatus
from payments.providers import sandbox
from tests import factories
from tests.payments import flow
from tests.storefront.support import done_order, html
from ticketing.orders import tickets as eticket
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.tickets import order_id_from_token, order_token

pytestmark = pytest.mark.django_db


def done_path(token: str) -> str:
    return f"/checkout/done/{token}/"


def decline(payment: Payment, reason: str = "card_declined") -> None:
    """The sandbox's signed payment.failed event, as it sends it after a declined card."""
    body = sandbox.event_body(
        event_type="payment.failed",
        provider_ref=payment.provider_ref,
        amount=payment.amount,
        currency=payment.currency,
        failure_reason=reason,
    ).encode()
    assert flow.receive(body).status == 200


def test_while_the_providers_word_is_on_its_way_the_page_says_confirming_and_refreshes(
    client, screening
):
    payment = flow.started(screening, "A1")
    assert payment.status == PaymentStatus.REQUIRES_ACTION

    response = client.get(f"{done_path(order_token(payment.order))}?payment={payment.provider_ref}")

    assert response.status_code == 200
    page = html(response)
    assert "Confirming your payment…" in page
    assert '<meta http-equiv="refresh" content="2;url=?payment=' in page
    assert "please do not pay again" in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_after_a_declined_card_the_page_says_why_and_offers_to_pay_again(client, screening):
    payment = flow.started(screening, "A1", "A2")
    decline(payment)
    token = order_token(payment.order)  # one token: it carries the second it was made

    response = client.get(done_path(token))

    page = html(response)
    assert "Your payment did not go through" in page
    assert "Your card was declined." in page
    assert 'http-equiv="refresh"' not in page
    assert f'action="/checkout/pay/{token}/"' in page
    assert "Pay €26.00" in page  # 2 x 12.00 + 2 x 1.00


def test_paying_again_starts_a_new_payment_and_sends_the_buyer_to_it(client, screening):
    declined = flow.started(screening, "A1")
    decline(declined, "insufficient_funds")
    token = order_token(declined.order)
    assert "Your card has insufficient funds." in html(client.get(done_path(token)))

    response = client.post(f"/checkout/pay/{token}/")

    fresh = Payment.objects.exclude(pk=declined.pk).get()
    assert response.status_code == 302
    assert response["Location"] == fresh.redirect_url
    assert (fresh.order_id, fresh.status) == (declined.order_id, PaymentStatus.REQUIRES_ACTION)
    back = f"{done_path(token)}?payment={fresh.provider_ref}"
    assert "Confirming your payment" in html(client.get(back))


def test_a_buyer_not_back_from_the_provider_is_not_told_to_wait_but_sent_to_pay(client, screening):
    """A second click on checkout, or a bookmark: no payment is on its way, so no "confirming"."""
    payment = flow.started(screening, "A1")
    page = html(client.get(done_path(order_token(payment.order))))

    assert "Confirming your payment" not in page
    assert 'http-equiv="refresh"' not in page
    assert "Your payment has not been made yet." in page
    assert f'href="{payment.redirect_url}"' in page


def test_an_order_without_a_payment_offers_to_pay(client, screening):
    order = factories.pending_order(screening, "A1")
    token = order_token(order)

    page = html(client.get(done_path(token)))

    assert "Pay for your order" in page
    assert f'action="/checkout/pay/{token}/"' in page


def test_once_paid_the_page_shows_the_tickets_with_qr_codes_and_links(client, screening):
    payment = flow.paid(screening, "C3", "C4")
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PAID
    token = order_token(order)

    response = client.get(done_path(token))

    assert response.status_code == 200
    page = html(response)
    assert "Booking confirmed" in page
    assert order.code in page
    assert 'http-equiv="refresh"' not in page
    assert (
        len(re.findall(r'<svg role="img" aria-label="QR code of the ticket for seat C\d"', page))
        == 2
    )
    for ticket in order.tickets.all():
        assert ticket.code in page
    assert f'href="/orders/{token}/calendar.ics"' in page
    [order_page] = re.findall(r'href="(/orders/[^"/]+/)"', page)
    assert order_id_from_token(order_page.split("/")[2]) == order.pk
    assert 'action="/checkout/pay/' not in page
    calendar = client.get(f"/orders/{token}/calendar.ics")
    assert calendar.status_code == 200
    assert b"BEGIN:VCALENDAR" in calendar.content
    assert client.get(order_page).status_code == 200


def test_paying_again_for_a_paid_order_only_goes_back_to_the_tickets(client, screening):
    payment = flow.paid(screening, "A1")

    response = client.post(f"/checkout/pay/{order_token(payment.order)}/")

    assert response.status_code == 302
    assert done_order(response["Location"]) == payment.order_id
    assert Payment.objects.count() == 1


def test_an_order_not_paid_in_time_says_so_and_cannot_be_paid(client, screening):
    payment = flow.started(screening, "A1")
    Order.objects.filter(pk=payment.order_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )  # no sweep has run: the order reads as expired all the same

    token = order_token(payment.order)
    page = html(client.get(done_path(token)))

    assert "This order was not paid in time and its seats were released." in page
    assert 'action="/checkout/pay/' not in page
    assert f'href="/screenings/{screening.pk}/"' in page
    response = client.post(f"/checkout/pay/{token}/")
    assert done_order(response["Location"]) == payment.order_id
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("token", ["not-a-token", "abc:def:ghi"])
def test_a_bad_token_is_a_404(client, token):
    assert client.get(f"/checkout/done/{token}/").status_code == 404
    assert client.post(f"/checkout/pay/{token}/").status_code == 404


def test_an_altered_token_is_a_404(client, screening):
    order = factories.pending_order(screening, "A1")
    token = order_token(order)

    assert client.get(f"/checkout/done/{token[:-2]}xx/").status_code == 404


def test_from_seats_to_tickets_through_the_pages_and_the_sandbox_webhook(client, screening):
    from tests.storefront.support import held_by

    hold = held_by(client, screening, "D4", "D5")
    adult = screening.auditorium.cinema.ticket_types.get(code="adult").pk
    to_pay = client.post(
        f"/checkout/{hold.pk}/",
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            **{f"type_{seat}": str(adult) for seat in hold.seat_ids},
        },
    )
    payment = Payment.objects.get()
    assert to_pay["Location"] == payment.redirect_url

    assert flow.receive(flow.event(payment)).status == 200

    page = html(client.get(done_path(order_token(payment.order))))
    assert "Booking confirmed" in page
    assert page.count('<svg role="img"') == 2


def sandbox_path(payment: Payment) -> str:
    """The sandbox page's path and query (its absolute URL names MARQUEE_SITE_URL's host)."""
    from urllib.parse import urlsplit

    url = urlsplit(payment.redirect_url)
    return f"{url.path}?{url.query}"


def checked_out(client, screening, label: str) -> Payment:
    """Hold one seat in this browser and go through checkout: the sandbox payment it started."""
    from tests.storefront.support import held_by

    hold = held_by(client, screening, label)
    adult = screening.auditorium.cinema.ticket_types.get(code="adult").pk
    client.post(
        f"/checkout/{hold.pk}/",
        {"name": "Ada", "email": "ada@example.com", f"type_{hold.seat_ids[0]}": str(adult)},
    )
    return Payment.objects.get()


def test_a_buyer_who_cancels_on_the_payment_page_can_still_pay(client, screening):
    payment = checked_out(client, screening, "A1")
    sandbox_page = html(client.get(sandbox_path(payment)))
    back = re.search(r'<a href="([^"]+)">Cancel and go back to the shop</a>', sandbox_page)
    assert back, sandbox_page[:500]

    response = client.get(back.group(1).replace("&amp;", "&"))

    assert response.status_code == 200
    page = html(response)
    assert payment.order.code in page  # the order's done page
    assert 'action="/checkout/pay/' in page
    assert "please do not pay again" not in page


def test_after_twenty_looks_without_word_from_the_provider_the_page_stops_and_offers_to_pay(
    client, screening
):
    payment = checked_out(client, screening, "A2")
    done = f"/checkout/done/{eticket.order_token(payment.order)}/"

    looking = html(client.get(f"{done}?payment={payment.provider_ref}&wait=19"))
    assert 'http-equiv="refresh" content="2;url=?payment=' in looking
    assert "wait=20" in looking  # the next look counts on

    stopped = html(client.get(f"{done}?payment={payment.provider_ref}&wait=20"))
    assert 'http-equiv="refresh"' not in stopped
    assert "We have not heard back from the payment provider yet" in stopped
    assert 'action="/checkout/pay/' in stopped
