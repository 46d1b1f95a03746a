"""An order's life: created from a live hold and priced on the server, paid (on time or late),
cancelled, or expired by the sweep. Every status change leaves a history row.

The fixture cinema: adult 1200, child 800, premium seats +300, booking fee 100 a ticket capped
at 300 an order (tests/factories.py). Room: rows A-E of ten seats.
Races between connections are in test_order_races.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from tests.factories import hold, live_claims
from ticketing import errors
from ticketing.flows.sweep import sweep
from ticketing.inventory import seatmap
from ticketing.inventory.models import Hold, HoldStatus, SeatClaim
from ticketing.orders import services
from ticketing.orders.models import Order, OrderStatus, OrderStatusChange, Ticket
from ticketing.orders.services import (
    order_cancel,
    order_create,
    order_mark_paid,
    orders_expire_due,
)
from ticketing.outbox.models import OutboxMessage
from ticketing.screenings.models import ScreeningPrice, Seat, SeatType, TicketType

pytestmark = pytest.mark.django_db

SESSION = factories.BUYER  # the buyer hold() holds for


def create(
    the_hold: Hold, tickets, *, session: str = SESSION, actor: str = "user:7", **kw
) -> Order:
    return order_create(
        hold_id=the_hold.pk,
        customer_email="ada@example.com",
        customer_name="Ada",
        tickets=tickets,
        buyer_key=session,
        actor=actor,
        **kw,
    )


def place(screening, *labels: str, session: str = SESSION) -> Order:
    """A pending order of adult tickets for these seats."""
    seat_ids = factories.seats(screening.auditorium, *labels)
    return create(
        hold(screening, *labels, session=session), [(s, "adult") for s in seat_ids], session=session
    )


def let_run_out(order: Order) -> None:
    """The order's time passes: it and its claims share one expiry."""
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    SeatClaim.objects.filter(order_id=order.pk).update(expires_at=past)


def history(order: Order) -> list[tuple[str, str, str, str]]:
    return list(
        OrderStatusChange.objects.filter(order=order).values_list(
            "from_status", "to_status", "actor", "reason"
        )
    )


def assert_no_order_written() -> None:
    assert Order.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert OrderStatusChange.objects.count() == 0


# --- priced on the server ------------------------------------------------------------------


def test_an_order_is_priced_on_the_server_with_surcharges_and_a_capped_booking_fee(screening):
    c4, c5, c6, c7 = factories.seats(screening.auditorium, "C4", "C5", "C6", "C7")
    Seat.objects.filter(pk=c5).update(seat_type=SeatType.PREMIUM)
    h = hold(screening, "C4", "C5", "C6", "C7")

    order = create(h, [(c4, "adult"), (c5, "adult"), (c6, "child"), (c7, "adult")])

    # 1200 + (1200 + 300) + 800 + 1200 = 4700; fee 4 x 100 = 400, capped at 300.
    assert (order.subtotal, order.booking_fee, order.discount, order.total) == (4700, 300, 0, 5000)
    assert order.currency == "EUR"
    assert order.status == OrderStatus.PENDING_PAYMENT
    tickets = {t.seat_id: t for t in order.tickets.all()}
    assert (tickets[c5].price, tickets[c5].surcharge, tickets[c5].seat_type) == (
        1200,
        300,
        "premium",
    )
    assert (tickets[c6].price, tickets[c6].ticket_type_name, tickets[c6].seat_label) == (
        800,
        "Child",
        "C6",
    )
    assert len({t.code for t in tickets.values()}) == 4  # each ticket its own code
    stored = Order.objects.get(pk=order.pk)
    assert stored.total == stored.subtotal + stored.booking_fee - stored.discount == 5000


def test_the_booking_fee_is_per_ticket_below_the_cap(screening):
    a1, a2 = factories.seats(screening.auditorium, "A1", "A2")
    order = create(hold(screening, "A1", "A2"), [(a1, "adult"), (a2, "child")])
    assert (order.subtotal, order.booking_fee, order.total) == (2000, 200, 2200)


def test_a_cinema_without_a_fee_cap_charges_the_fee_on_every_ticket(auditorium, screening):
    auditorium.cinema.booking_fee_cap = None
    auditorium.cinema.save()
    seats = factories.seats(auditorium, *(f"B{n}" for n in range(1, 6)))
    order = create(hold(screening, *(f"B{n}" for n in range(1, 6))), [(s, "child") for s in seats])
    assert (order.subtotal, order.booking_fee, order.total) == (4000, 500, 4500)


def test_a_screening_price_overrides_the_cinemas_list_price(screening):
    adult = TicketType.objects.get(cinema=screening.auditorium.cinema, code="adult")
    ScreeningPrice.objects.create(screening=screening, ticket_type=adult, price=950)
    [a1] = factories.seats(screening.auditorium, "A1")
    order = create(hold(screening, "A1"), [(a1, adult.pk)])  # by id as well as by code
    assert (order.subtotal, order.total) == (950, 1050)
    assert order.tickets.get().price == 950


@pytest.mark.parametrize("ticket_type", ["vip", "child-inactive", 999_999])
def test_an_unknown_or_inactive_ticket_type_is_refused_and_writes_nothing(screening, ticket_type):
    TicketType.objects.filter(cinema=screening.auditorium.cinema, code="child").update(
        is_active=False
    )
    if ticket_type == "child-inactive":
        ticket_type = "child"
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    with pytest.raises(errors.UnknownTicketType):
        create(h, [(a1, ticket_type)])
    assert_no_order_written()
    assert Hold.objects.get(pk=h.pk).status == HoldStatus.ACTIVE  # the hold is untouched


@pytest.mark.parametrize(
    "tickets",
    [
        ["A1"],  # a held seat left out
        ["A1", "A2", "A3"],  # a seat not held
        ["A1", "A2", "A2"],  # a seat twice
        [],
    ],
    ids=["missing", "extra", "duplicate", "none"],
)
def test_tickets_must_name_each_held_seat_exactly_once(screening, tickets):
    h = hold(screening, "A1", "A2")
    seat_ids = [factories.seats(screening.auditorium, label)[0] for label in tickets]
    with pytest.raises(errors.TicketsMismatch) as exc:
        create(h, [(s, "adult") for s in seat_ids])
    assert exc.value.details["held"] == sorted(factories.seats(screening.auditorium, "A1", "A2"))
    assert_no_order_written()
    assert {c.hold_id for c in SeatClaim.objects.all()} == {h.pk}
    assert all(c.order_id is None for c in SeatClaim.objects.all())


def test_promo_codes_are_refused_for_now(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    with pytest.raises(errors.PromoCodesUnavailable):
        create(h, [(a1, "adult")], promo_code="SUMMER10")
    assert_no_order_written()
    assert Hold.objects.get(pk=h.pk).status == HoldStatus.ACTIVE


def test_someone_elses_hold_is_not_found(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1", session="owner")
    with pytest.raises(errors.HoldNotFound):
        create(h, [(a1, "adult")], session="intruder")
    with pytest.raises(errors.HoldNotFound):
        create(h, [(a1, "adult")], session="")
    assert_no_order_written()


# --- the hold reaching payment --------------------------------------------------------------


def age_hold(h: Hold, *, created_ago: timedelta, expires_in: timedelta) -> Hold:
    now = timezone.now()
    Hold.objects.filter(pk=h.pk).update(created_at=now - created_ago, expires_at=now + expires_in)
    SeatClaim.objects.filter(hold=h).update(expires_at=now + expires_in)
    return Hold.objects.get(pk=h.pk)


def assert_one_expiry(order: Order) -> None:
    """The order, its hold and its seats' claims all run out at the same moment."""
    h = Hold.objects.get(pk=order.hold_id)
    assert h.expires_at == order.expires_at
    assert {c.expires_at for c in SeatClaim.objects.filter(order=order)} == {order.expires_at}
    assert h.status == HoldStatus.ORDERED
    assert h.extended_at is not None


def test_reaching_payment_extends_a_hold_about_to_die(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = age_hold(
        hold(screening, "A1"), created_ago=timedelta(minutes=8), expires_in=timedelta(minutes=2)
    )
    extension = timedelta(seconds=settings.MARQUEE["HOLD_EXTENSION_SECONDS"])
    before = timezone.now()
    order = create(h, [(a1, "adult")])
    assert before + extension <= order.expires_at <= timezone.now() + extension
    assert_one_expiry(order)


def test_the_extension_never_goes_past_the_hard_cap(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = age_hold(
        hold(screening, "A1"), created_ago=timedelta(minutes=18), expires_in=timedelta(minutes=1)
    )
    order = create(h, [(a1, "adult")])
    assert order.expires_at == h.created_at + timedelta(
        seconds=settings.MARQUEE["HOLD_HARD_CAP_SECONDS"]
    )
    assert_one_expiry(order)


def test_the_extension_never_shortens_a_hold(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")  # ten minutes: longer than the five-minute extension
    order = create(h, [(a1, "adult")])
    assert order.expires_at == h.expires_at
    assert_one_expiry(order)


def test_a_hold_becomes_one_order_only(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    first = create(h, [(a1, "adult")])
    with pytest.raises(errors.HoldNotActive) as exc:
        create(h, [(a1, "adult")])
    assert exc.value.details["order"] == str(first.pk)
    assert Order.objects.count() == 1
    assert Hold.objects.get(pk=h.pk).expires_at == first.expires_at  # extended once, not twice


def test_an_expired_hold_cannot_become_an_order_and_leaves_nothing_behind(screening):
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    past = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=h.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold=h).update(expires_at=past)

    with pytest.raises(errors.HoldExpired):
        create(h, [(a1, "adult")])

    assert_no_order_written()
    assert SeatClaim.objects.get().order_id is None
    assert Hold.objects.get(pk=h.pk).status == HoldStatus.ACTIVE  # dead by time; the sweep says so
    hold(screening, "A1", session="next")  # and the seat is for sale


def test_a_released_hold_cannot_become_an_order(screening):
    from ticketing.inventory.holds import hold_release

    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    hold_release(hold=h)
    with pytest.raises(errors.HoldExpired):
        create(h, [(a1, "adult")])
    assert_no_order_written()


def test_a_hold_dying_between_the_checks_and_the_move_gives_the_order_no_seats(
    screening, monkeypatch
):
    """The claims move to the order in one UPDATE conditional on `expires_at > now`: if the hold
    dies after order_create has looked at it, the move finds nothing and the order is undone."""
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    real_attach = services.claims.attach_to_order

    def attach_after_the_hold_died(hold_id, order_id, *, now, expires_at):
        return real_attach(
            hold_id, order_id, now=h.expires_at + timedelta(seconds=1), expires_at=expires_at
        )

    monkeypatch.setattr(services.claims, "attach_to_order", attach_after_the_hold_died)
    with pytest.raises(errors.HoldExpired):
        create(h, [(a1, "adult")])

    assert_no_order_written()
    claim = SeatClaim.objects.get()
    assert (claim.hold_id, claim.order_id, claim.expires_at) == (h.pk, None, h.expires_at)
    assert Hold.objects.get(pk=h.pk).status == HoldStatus.ACTIVE


def test_a_hold_that_died_and_lost_its_seats_while_the_order_waited_is_reported_expired(
    screening, monkeypatch
):
    """order_create reads the clock, then waits for the hold's lock; meanwhile the hold dies and
    a newcomer takes its seats. The buyer is told the hold expired (410), not that the tickets
    do not match the hold (400)."""
    [a1] = factories.seats(screening.auditorium, "A1")
    h = hold(screening, "A1")
    died = timezone.now() - timedelta(seconds=1)
    Hold.objects.filter(pk=h.pk).update(expires_at=died)
    SeatClaim.objects.filter(hold=h).update(expires_at=died)
    newcomer = hold(screening, "A1", session="newcomer")

    class ClockReadJustBeforeTheHoldDied:
        calls = 0

        @classmethod
        def now(cls):
            cls.calls += 1
            return died - timedelta(milliseconds=5) if cls.calls == 1 else timezone.now()

    monkeypatch.setattr(services, "timezone", ClockReadJustBeforeTheHoldDied)
    with pytest.raises(errors.HoldExpired):
        create(h, [(a1, "adult")])

    assert_no_order_written()
    assert SeatClaim.objects.get().hold_id == newcomer.pk


# --- paying ----------------------------------------------------------------------------------


def test_paying_sells_the_seats_records_the_change_and_queues_one_confirmation(
    screening, django_capture_on_commit_callbacks, mailoutbox
):
    order = place(screening, "D4", "D5")
    with django_capture_on_commit_callbacks(execute=True):
        paid = order_mark_paid(order_id=order.pk, actor="provider:sandbox", reason="payment pi_1")

    assert paid.status == OrderStatus.PAID
    stored = Order.objects.get(pk=order.pk)
    assert stored.status == OrderStatus.PAID and stored.paid_at is not None
    claims = SeatClaim.objects.filter(order=order)
    assert claims.count() == 2 and all(c.expires_at is None for c in claims)  # sold for good
    statuses = {s["id"]: s["status"] for s in seatmap.build(screening)["seats"]}
    assert {statuses[c.seat_id] for c in claims} == {"sold"}
    assert OutboxMessage.objects.get().dedupe_key == f"order.confirmation:{order.pk}"
    assert len(mailoutbox) == 1 and order.code in mailoutbox[0].subject


def test_paying_twice_changes_the_status_once_and_queues_one_message(
    screening, django_capture_on_commit_callbacks, mailoutbox
):
    order = place(screening, "D4")
    with django_capture_on_commit_callbacks(execute=True):
        order_mark_paid(order_id=order.pk, actor="provider:sandbox")
    with django_capture_on_commit_callbacks(execute=True):
        again = order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    assert again.status == OrderStatus.PAID
    assert OrderStatusChange.objects.filter(order=order, to_status=OrderStatus.PAID).count() == 1
    assert OutboxMessage.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_cancelled_order_cannot_be_paid(screening):
    order = place(screening, "D4")
    order_cancel(order_id=order.pk, actor="user:7")
    with pytest.raises(errors.OrderStateConflict):
        order_mark_paid(order_id=order.pk, actor="provider:sandbox")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert SeatClaim.objects.count() == 0
    assert OutboxMessage.objects.count() == 0


def test_a_late_payment_after_the_sweep_expired_the_order_re_claims_its_free_seats(screening):
    order = place(screening, "D4", "D5")
    let_run_out(order)
    assert sweep().orders_expired == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert SeatClaim.objects.count() == 0

    order_mark_paid(order_id=order.pk, actor="provider:sandbox", reason="late payment")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    claims = SeatClaim.objects.filter(order=order)
    assert sorted(c.seat_id for c in claims) == sorted(
        factories.seats(screening.auditorium, "D4", "D5")
    )
    assert all(c.expires_at is None for c in claims)
    assert [(f, t) for f, t, _, _ in history(order)] == [
        ("", "pending_payment"),
        ("pending_payment", "expired"),
        ("expired", "paid"),
    ]
    assert OutboxMessage.objects.count() == 1


def test_a_late_payment_with_no_sweep_at_all_re_claims_its_seats(screening):
    order = place(screening, "D4", "D5")
    let_run_out(order)  # dead, still pending: nobody swept

    order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert SeatClaim.objects.count() == 2  # the dead claims were replaced, not kept beside
    assert all(c.expires_at is None and c.order_id == order.pk for c in SeatClaim.objects.all())


def test_a_late_payment_for_a_seat_sold_since_raises_seats_lost_and_changes_nothing(screening):
    order = place(screening, "D4", "D5")
    let_run_out(order)
    sweep()
    newcomer = hold(screening, "D5", session="newcomer")
    [d5] = factories.seats(screening.auditorium, "D5")

    with pytest.raises(errors.SeatsLost) as exc:
        order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    assert exc.value.details["seats"] == [d5]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED  # the payment layer refunds
    assert not SeatClaim.objects.filter(order=order).exists()  # not even the free D4
    assert SeatClaim.objects.get().hold_id == newcomer.pk
    assert OutboxMessage.objects.count() == 0
    assert OrderStatus.PAID not in [t for _, t, _, _ in history(order)]


def test_a_late_payment_with_no_sweep_for_a_seat_taken_since_raises_seats_lost(screening):
    order = place(screening, "D4", "D5")
    let_run_out(order)  # no sweep: the newcomer replaces the dead claim on D5 itself
    newcomer = hold(screening, "D5", session="newcomer")

    with pytest.raises(errors.SeatsLost):
        order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert live_claims(order=order) == []
    [d5] = factories.seats(screening.auditorium, "D5")
    assert [(c.seat_id, c.hold_id) for c in live_claims()] == [(d5, newcomer.pk)]
    assert OutboxMessage.objects.count() == 0


# --- cancelling ------------------------------------------------------------------------------


def test_cancelling_an_unpaid_order_puts_its_seats_back_on_sale_at_once(screening):
    order = place(screening, "E5", "E6")
    order_cancel(order_id=order.pk, actor="user:7", reason="changed my mind")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert SeatClaim.objects.count() == 0
    statuses = {s["id"]: s["status"] for s in seatmap.build(screening)["seats"]}
    assert {statuses[s] for s in factories.seats(screening.auditorium, "E5", "E6")} == {"available"}
    hold(screening, "E5", "E6", session="next")


def test_cancelling_a_paid_order_before_the_screening_releases_its_seats(screening):
    order = place(screening, "E5")
    order_mark_paid(order_id=order.pk, actor="provider:sandbox")
    order_cancel(order_id=order.pk, actor="staff:3", reason="customer request")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert SeatClaim.objects.count() == 0


def test_a_paid_order_cannot_be_cancelled_once_the_screening_has_started(screening):
    order = place(screening, "E5")
    order_mark_paid(order_id=order.pk, actor="provider:sandbox")
    type(screening).objects.filter(pk=screening.pk).update(
        starts_at=timezone.now() - timedelta(minutes=1), ends_at=timezone.now() + timedelta(hours=2)
    )
    with pytest.raises(errors.OrderStateConflict):
        order_cancel(order_id=order.pk, actor="user:7")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert SeatClaim.objects.get().expires_at is None


def test_cancelling_twice_records_one_change(screening):
    order = place(screening, "E5")
    order_cancel(order_id=order.pk, actor="user:7")
    order_cancel(order_id=order.pk, actor="user:7")
    assert OrderStatusChange.objects.filter(order=order, to_status="cancelled").count() == 1


def test_an_expired_order_cannot_be_cancelled(screening):
    order = place(screening, "E5")
    let_run_out(order)
    sweep()
    with pytest.raises(errors.OrderStateConflict):
        order_cancel(order_id=order.pk, actor="user:7")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED


# --- history -------------------------------------------------------------------------------


def test_every_status_change_is_recorded_with_who_and_why(screening):
    paid = place(screening, "A1", session="one")
    order_mark_paid(order_id=paid.pk, actor="provider:sandbox", reason="payment pi_123")
    order_cancel(order_id=paid.pk, actor="staff:3", reason="customer request")
    expired = place(screening, "A2", session="two")
    let_run_out(expired)
    sweep()

    assert history(paid) == [
        ("", "pending_payment", "user:7", "created from hold"),
        ("pending_payment", "paid", "provider:sandbox", "payment pi_123"),
        ("paid", "cancelled", "staff:3", "customer request"),
    ]
    assert history(expired) == [
        ("", "pending_payment", "user:7", "created from hold"),
        ("pending_payment", "expired", "system:sweep", "unpaid when its hold ran out"),
    ]
    assert all(change.at for change in OrderStatusChange.objects.all())


# --- expiring unpaid orders ----------------------------------------------------------------


def test_unpaid_orders_expire_in_batches_of_set_based_statements(screening):
    due = [place(screening, f"B{n}", session=f"due-{n}") for n in range(1, 6)]
    for order in due:
        let_run_out(order)
    not_yet = place(screening, "C1", session="not-yet")
    paid = place(screening, "C2", session="paid")
    order_mark_paid(order_id=paid.pk, actor="provider:sandbox")
    Order.objects.filter(pk=paid.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with CaptureQueriesContext(connection) as queries:
        expired = orders_expire_due(batch_size=2)

    assert expired == 5
    assert set(Order.objects.filter(status=OrderStatus.EXPIRED).values_list("pk", flat=True)) == {
        o.pk for o in due
    }
    assert Order.objects.get(pk=not_yet.pk).status == OrderStatus.PENDING_PAYMENT
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert not SeatClaim.objects.filter(order__in=due).exists()
    assert SeatClaim.objects.filter(order=paid, expires_at__isnull=True).exists()
    assert OrderStatusChange.objects.filter(to_status="expired", actor="system:sweep").count() == 5

    # Batches of 2, 2 and 1: one UPDATE, one history INSERT and one claims DELETE per batch,
    # never a statement per order.
    def count(prefix: str) -> int:
        return sum(1 for q in queries if q["sql"].startswith(prefix))

    assert count(f'UPDATE "{Order._meta.db_table}"') == 3
    assert count(f'INSERT INTO "{OrderStatusChange._meta.db_table}"') == 3
    assert count(f'DELETE FROM "{SeatClaim._meta.db_table}"') == 3
    assert orders_expire_due(batch_size=2) == 0
