"""Order lookup at the box office: finding an order, reading it, resending its confirmation,
refunding it; never another cinema's."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payments.models import Refund
from payments.refunds import refund_create
from payments.services import payment_start
from tests import factories
from tests.concurrency import run_concurrently, unexpected, winners
from tests.payments import flow
from tests.staff.support import signed_in, staff_user
from ticketing import errors, ticket_signing
from ticketing.audit.models import AuditEntry
from ticketing.inventory.holds import hold_create
from ticketing.orders.models import OrderStatus, Ticket
from ticketing.orders.services import order_confirmation_resend, order_create
from ticketing.outbox.models import OutboxMessage
from ticketing.staff import roles

pytestmark = pytest.mark.django_db


def paid_order(screening, *labels, name="Ada Lovelace", email="ada@example.com", partner=None):
    """An order of adult tickets for these seats, paid through the sandbox as a buyer pays."""
    seat_ids = factories.seats(screening.auditorium, *labels)
    if partner is None:
        hold, owner = factories.hold(screening, *labels), {"buyer_key": factories.BUYER}
    else:
        hold = hold_create(screening_id=screening.pk, seat_ids=seat_ids, partner=partner)
        owner = {"partner": partner}
    order = order_create(
        hold_id=hold.pk,
        customer_email=email,
        customer_name=name,
        tickets=[(seat_id, "adult") for seat_id in seat_ids],
        actor="test",
        **owner,
    )
    payment = payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="test"
    )
    assert flow.receive(flow.event(payment)).status == 200
    order.refresh_from_db()
    return order


@pytest.fixture
def here(screening):
    return screening.auditorium.cinema


@pytest.fixture
def elsewhere_screening(db):
    return factories.screening(factories.auditorium(factories.cinema(), rows=2, per_row=5))


def search(client, query):
    response = client.get("/staff/orders/", {"q": query})
    assert response.status_code == 200
    return response.content.decode()


def test_the_box_office_finds_an_order_by_its_code_email_name_or_ticket_code(client, screening):
    order = paid_order(screening, "A1", "A2")
    other = paid_order(screening, "B1", name="Grace Hopper", email="grace@example.com")
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))
    ticket = order.tickets.first()

    for query in (order.code, order.code.lower().replace("-", ""), "ADA@example.com", "Lovelace",
                  ticket.code, f"MQT:{ticket.code}",
                  ticket_signing.sign(code=ticket.code, screening_id=screening.pk)):  # fmt: skip
        page = search(client, query)
        assert f"/staff/orders/{order.pk}/" in page, query
        assert f"/staff/orders/{other.pk}/" not in page, query


def test_the_search_never_shows_another_cinemas_order_and_its_page_is_404(
    client, screening, elsewhere_screening
):
    mine = paid_order(screening, "A1")
    theirs = paid_order(elsewhere_screening, "A1", email="ada@example.com")
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))

    page = search(client, "ada@example.com")
    assert f"/staff/orders/{mine.pk}/" in page and f"/staff/orders/{theirs.pk}/" not in page
    assert f"/staff/orders/{theirs.pk}/" not in search(client, theirs.code)
    assert "No order of your cinemas matches" in search(client, theirs.code)
    assert f"/staff/orders/{theirs.pk}/" not in search(client, "")  # the latest: mine only
    assert client.get(f"/staff/orders/{theirs.pk}/").status_code == 404
    assert client.post(f"/staff/orders/{theirs.pk}/resend/").status_code == 404
    assert client.get(f"/staff/orders/{mine.pk}/").status_code == 200


def test_the_order_page_shows_tickets_seats_history_payment_and_check_in_time(client, screening):
    order = paid_order(screening, "C3", "C4")
    admitted = timezone.now().replace(hour=18, minute=5, second=9, microsecond=0)
    Ticket.objects.filter(order=order, seat_label="C3").update(checked_in_at=admitted)
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))

    page = client.get(f"/staff/orders/{order.pk}/").content.decode()
    assert order.code in page and "Ada Lovelace" in page and "ada@example.com" in page
    assert "C3" in page and "C4" in page and "Adult" in page
    in_paris = timezone.localtime(admitted, screening.auditorium.cinema.tz)
    assert f"admitted</span> {in_paris:%-d %b, %H:%M:%S}" in page  # the cinema's clock
    assert "pending_payment → <strong>paid</strong>" in page.replace("new → ", "")
    assert "Payment via sandbox" in page
    assert "Resend the confirmation" in page
    assert "Refund the whole order" not in page  # box office: no refunds


def test_each_resend_sends_one_more_email_up_to_the_limit_then_refuses(
    client, screening, mailoutbox, django_capture_on_commit_callbacks
):
    order = paid_order(screening, "A1")
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))
    mailoutbox.clear()

    for click in range(1, 4):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/staff/orders/{order.pk}/resend/", follow=True)
        assert f"sent again to ada@example.com ({3 - click} more" in response.content.decode()
        assert len(mailoutbox) == click
        assert order.code in mailoutbox[-1].subject and mailoutbox[-1].to == ["ada@example.com"]
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(f"/staff/orders/{order.pk}/resend/", follow=True)

    assert "Not sent" in refused.content.decode() and "3 times in the last hour" in (
        refused.content.decode()
    )
    assert len(mailoutbox) == 3
    assert OutboxMessage.objects.filter(dedupe_key__contains=":resend:").count() == 3
    # each resend is an email of its own: mail systems would fold a repeated Message-ID away
    assert len({m.extra_headers["Message-ID"] for m in mailoutbox}) == 3
    assert AuditEntry.objects.filter(action="order.confirmation_resent").count() == 3


def test_a_resend_is_a_post_with_the_csrf_token(screening):
    from django.test import Client

    order = paid_order(screening, "A1")
    client = signed_in(
        Client(enforce_csrf_checks=True), staff_user(roles.BOX_OFFICE, screening.auditorium.cinema)
    )
    assert client.get(f"/staff/orders/{order.pk}/resend/").status_code == 405
    assert client.post(f"/staff/orders/{order.pk}/resend/").status_code == 403
    assert not OutboxMessage.objects.filter(dedupe_key__contains=":resend:").exists()


def test_a_box_office_member_cannot_refund(client, screening):
    order = paid_order(screening, "A1")
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))

    response = client.post(f"/staff/orders/{order.pk}/refund/", {"scope": "all"})

    assert response.status_code == 403
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_managers_refund_of_chosen_tickets_goes_through_and_is_audited(client, screening):
    order = paid_order(screening, "D1", "D2")
    manager = staff_user(roles.MANAGER, screening.auditorium.cinema)
    signed_in(client, manager)
    d2 = order.tickets.get(seat_label="D2")

    response = client.post(
        f"/staff/orders/{order.pk}/refund/",
        {"scope": "chosen", "tickets": [d2.pk], "reason": "wrong day"},
        follow=True,
    )

    assert "Refunded €12.00 for 1 ticket" in response.content.decode()
    d2.refresh_from_db()
    assert d2.refunded_at is not None
    assert order.tickets.get(seat_label="D1").refunded_at is None
    entry = AuditEntry.objects.get(action="order.refunded")
    assert entry.actor == f"user:{manager.pk}" and entry.actor_name == manager.username
    assert entry.cinema_id == screening.auditorium.cinema_id
    assert entry.object_id == str(order.pk)
    assert entry.changes["tickets"] == [None, ["D2"]]
    assert "wrong day" in entry.summary


def test_a_managers_whole_order_refund_refunds_it(client, screening):
    order = paid_order(screening, "D1", "D2")
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))

    client.post(f"/staff/orders/{order.pk}/refund/", {"scope": "all"})

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert AuditEntry.objects.get(action="order.refunded").changes["status"] == [
        "paid",
        "refunded",
    ]


def test_a_checked_in_ticket_is_not_refunded_and_the_page_says_why(client, screening):
    order = paid_order(screening, "E1", "E2")
    Ticket.objects.filter(order=order, seat_label="E1").update(checked_in_at=timezone.now())
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))

    response = client.post(f"/staff/orders/{order.pk}/refund/", {"scope": "all"}, follow=True)

    page = response.content.decode()
    assert "Not refunded: E1 already admitted at the door" in page
    assert (
        not Refund.objects.exists()
        and not AuditEntry.objects.filter(action="order.refunded").exists()
    )


def test_a_refund_naming_no_ticket_is_refused_in_words(client, screening):
    order = paid_order(screening, "E1")
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))
    response = client.post(f"/staff/orders/{order.pk}/refund/", {"scope": "chosen"}, follow=True)
    assert "choose the tickets to refund" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_manager_cannot_refund_another_cinemas_order(client, screening, elsewhere_screening):
    theirs = paid_order(elsewhere_screening, "A1")
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))
    assert client.post(f"/staff/orders/{theirs.pk}/refund/", {"scope": "all"}).status_code == 404
    assert not Refund.objects.exists()


def test_the_orders_page_is_first_in_the_box_offices_menu(client, screening):
    signed_in(client, staff_user(roles.BOX_OFFICE, screening.auditorium.cinema))
    page = client.get("/staff/orders/").content.decode()
    nav = page[page.index('class="staff-nav"') :]
    assert nav.index("/staff/orders/") < nav.index("</nav>")


@pytest.mark.django_db(transaction=True)
def test_eight_clicks_at_once_resend_the_confirmation_three_times_only(screening):
    order = paid_order(screening, "E5")
    user = staff_user(roles.BOX_OFFICE, screening.auditorium.cinema)

    outcomes = run_concurrently(
        [lambda: order_confirmation_resend(order_id=order.pk, user=user)] * 8
    )

    assert len(winners(outcomes)) == 3
    assert unexpected(outcomes, errors.ConfirmationResendLimit) == []
    assert OutboxMessage.objects.filter(dedupe_key__contains=":resend:").count() == 3
    assert AuditEntry.objects.filter(action="order.confirmation_resent").count() == 3


def test_an_orders_page_costs_the_same_queries_whatever_its_tickets(
    client, screening, django_assert_max_num_queries
):
    small = paid_order(screening, "A1", "A2")
    large = paid_order(screening, "B1", "B2", "B3", "B4", "B5", "B6")
    for order, label in ((small, "A1"), (large, "B1"), (large, "B2")):
        refund_create(
            order_id=order.pk,
            ticket_ids=[order.tickets.get(seat_label=label).pk],
            actor="user:1",
            reason="test",
        )
    signed_in(client, staff_user(roles.MANAGER, screening.auditorium.cinema))
    client.get(f"/staff/orders/{small.pk}/")  # the session and permissions, read once

    with CaptureQueriesContext(connection) as small_page:
        client.get(f"/staff/orders/{small.pk}/")
    with django_assert_max_num_queries(len(small_page)):
        assert client.get(f"/staff/orders/{large.pk}/").status_code == 200
