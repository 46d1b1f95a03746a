"""Per-buyer limits of an onsale, decided in the database: a tally per identity of a buyer.

An onsale's `ticket_limit` holds across every hold and order of one buyer in the whole onsale
(all its screenings), for each identity the buyer shows:

- `waiter`: the browser, i.e. the waiter id of its admission token (storefront); a browser
  buying without one (a session on the API) is counted by its session's buyer key instead;
- `account`: the signed-in account, when there is one;
- `email`: the order's email, known at order time (kept as a keyed hash, never in clear).

`BuyerTally` has one row per (onsale, kind, identity) with the tickets counted; it is counted
up by ONE conditional statement per identity, in the hold's or order's own transaction:

    INSERT ... ON CONFLICT DO UPDATE SET tickets = tally.tickets + n
        WHERE tally.tickets + n <= limit RETURNING tickets

Nothing returned is a refusal (`errors.OnsaleLimitReached`, code `onsale_limit_reached`, with
the limit and how many are left) and the whole hold or order rolls back. Two requests of one
buyer racing wait on the tally row's lock; PostgreSQL decides, not Python.

`BuyerCharge` records what one hold counted and against which identities, so each give-back
is exact and happens once (a conditional UPDATE on `returned_at IS NULL`):

- A hold counts its tickets for its waiter and account (`charge_hold`).
- The hold's count MOVES to its order (`charge_order`): the same charge row gets the order and
  the email identity is counted up then (and the account, if the buyer signed in since).
  Nothing is counted twice: a hold that became an order is never given back as a hold.
- A hold released or dead without an order gives its tickets back: lazily, in the next hold
  of the same buyer in the onsale (a dead hold is dead when `expires_at` passes, worker or not:
  invariant 3), and by the sweep in one set-based statement (`charges_return_dead`).
- An order that ends (expired, cancelled, refunded: `orders_ended`) gives its tickets back;
  refunded tickets of a paid order give theirs back (`tickets_refunded`); a late payment that
  revives an expired order counts again within the limit (`order_revived`), else the payment is
  refused (`errors.OnsaleLimitLost`, a `SeatsLost`: it is refunded).

Partners are not counted: they sell to many buyers through their allocations and key rate
limits, and are not queued.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, models
from django.db.models import F, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ticketing import errors
from ticketing.inventory.models import Hold
from ticketing.orders import signals

log = logging.getLogger(__name__)

WAITER, ACCOUNT, EMAIL = "waiter", "account", "email"
KINDS = (WAITER, ACCOUNT, EMAIL)  # the order identities are locked in, always


class BuyerTally(models.Model):
    """Tickets one identity of a buyer holds or bought in an onsale."""

    class Kind(models.TextChoices):
        WAITER = WAITER, "browser (waiter id)"
        ACCOUNT = ACCOUNT, "account"
        EMAIL = EMAIL, "email (hashed)"

    onsale = models.ForeignKey("onsale.Onsale", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    identity = models.CharField(max_length=64)
    tickets = models.IntegerField(default=0)

    class Meta:
        app_label = "onsale"
        constraints = [
            models.UniqueConstraint(
                fields=["onsale", "kind", "identity"], name="onsale_tally_one_per_identity"
            ),
            models.CheckConstraint(
                condition=Q(tickets__gte=0), name="onsale_tally_tickets_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.identity[:8]}…: {self.tickets}"


class BuyerCharge(models.Model):
    """What one hold (then its order) counted, and against which identities ('' = none)."""

    onsale = models.ForeignKey("onsale.Onsale", on_delete=models.CASCADE, related_name="+")
    hold = models.OneToOneField("inventory.Hold", on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tickets = models.IntegerField()
    waiter = models.CharField(max_length=64, blank=True, default="")
    account = models.CharField(max_length=64, blank=True, default="")
    email = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "onsale"
        constraints = [
            models.CheckConstraint(
                condition=Q(tickets__gte=0), name="onsale_charge_tickets_not_negative"
            ),
        ]
        indexes = [
            models.Index(
                fields=["onsale", "waiter"],
                name="onsale_charge_live_waiter",
                condition=Q(returned_at__isnull=True, order__isnull=True),
            ),
            models.Index(
                fields=["onsale", "account"],
                name="onsale_charge_live_account",
                condition=Q(returned_at__isnull=True, order__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tickets} tickets of hold {self.hold_id}"


def email_identity(email: str) -> str:
    """The email as the tally keeps it: a keyed hash of the trimmed, lower-cased address."""
    normal = (email or "").strip().lower()
    if not normal:
        return ""
    return salted_hmac("marquee.onsale.email", normal, algorithm="sha256").hexdigest()


def waiter_identity(waiter_id: str = "", buyer_key: str = "") -> str:
    if waiter_id:
        return waiter_id[:64]
    return f"s:{buyer_key}"[:64] if buyer_key else ""


def account_identity(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.pk)


def _tally() -> str:
    return BuyerTally._meta.db_table


def _charges() -> str:
    return BuyerCharge._meta.db_table


def _left(onsale_id: int, kind: str, identity: str, limit: int) -> int:
    counted = (
        BuyerTally.objects.filter(onsale_id=onsale_id, kind=kind, identity=identity)
        .values_list("tickets", flat=True)
        .first()
    )
    return max(0, limit - (counted or 0))


def _count_up(onsale_id: int, limit: int, kind: str, identity: str, tickets: int) -> None:
    """One conditional statement: counted, or `OnsaleLimitReached` (the caller's transaction
    rolls back with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_tally()} AS t (onsale_id, kind, identity, tickets) "
            "SELECT %s, %s, %s, %s WHERE %s <= %s "
            "ON CONFLICT (onsale_id, kind, identity) DO UPDATE "
            "SET tickets = t.tickets + EXCLUDED.tickets "
            "WHERE t.tickets + EXCLUDED.tickets <= %s RETURNING t.tickets",
            [onsale_id, kind, identity, tickets, tickets, limit, limit],
        )
        counted = cursor.fetchone()
    if counted is None:
        left = _left(onsale_id, kind, identity, limit)
        log.info(
            "onsale %s: %s limit %d reached (%d left, asking %d)",
            onsale_id,
            kind,
            limit,
            left,
            tickets,
        )
        raise errors.OnsaleLimitReached(
            limit=limit, left=left, requested=tickets, per=kind, onsale=onsale_id
        )


def _count_each(onsale_id: int, limit: int, identities: dict[str, str], tickets: int) -> None:
    for kind in KINDS:  # one order of row locks for every transaction
        if identities.get(kind):
            _count_up(onsale_id, limit, kind, identities[kind], tickets)


def _give_back(rows: Iterable[tuple[int, int, str, str, str]]) -> int:
    """Subtract (onsale, tickets, waiter, account, email) rows from their tallies, summed per
    identity, in the order the count-ups lock them."""
    sums: dict[tuple[int, str, str], int] = defaultdict(int)
    for onsale_id, tickets, waiter, account, email in rows:
        for kind, identity in zip(KINDS, (waiter, account, email), strict=True):
            if identity and tickets:
                sums[(onsale_id, kind, identity)] += tickets
    for (onsale_id, kind, identity), tickets in sorted(
        sums.items(), key=lambda item: (item[0][0], KINDS.index(item[0][1]), item[0][2])
    ):
        BuyerTally.objects.filter(onsale_id=onsale_id, kind=kind, identity=identity).update(
            tickets=F("tickets") - tickets
        )
    return sum(sums.values())


def _return_where(condition: str, params: list) -> int:
    """Mark the live charges matching `condition` returned, once, and give their tickets back."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_charges()} AS c SET returned_at = %s WHERE c.returned_at IS NULL AND "
            f"({condition}) RETURNING c.onsale_id, c.tickets, c.waiter, c.account, c.email",
            [timezone.now(), *params],
        )
        rows = cursor.fetchall()
    return _give_back(rows)


def _dead_hold_condition(now) -> tuple[str, list]:
    holds = Hold._meta.db_table
    return (
        f"c.order_id IS NULL AND c.hold_id IN (SELECT h.id FROM {holds} h WHERE h.id = c.hold_id "
        "AND (h.status IN ('released', 'expired') OR (h.status = 'active' AND h.expires_at <= %s)))",
        [now],
    )


def _return_dead_of(onsale_id: int, identities: dict[str, str], now) -> int:
    """This buyer's holds in the onsale that were released or died without an order."""
    mine = [
        (f"c.{kind} = %s", identities[kind]) for kind in (WAITER, ACCOUNT) if identities.get(kind)
    ]
    if not mine:
        return 0
    dead, params = _dead_hold_condition(now)
    who = " OR ".join(clause for clause, _value in mine)
    return _return_where(
        f"c.onsale_id = %s AND ({who}) AND {dead}",
        [onsale_id, *(value for _clause, value in mine), *params],
    )


def charge_hold(*, onsale, hold, waiter_id: str = "", buyer_key: str = "", user=None) -> None:
    """Count a new hold's tickets for the buyer's browser and account, in the hold's
    transaction, or raise `OnsaleLimitReached`. A hold already counted (asked again for the
    same seats) is not counted twice."""
    now = timezone.now()
    identities = {
        WAITER: waiter_identity(waiter_id, buyer_key),
        ACCOUNT: account_identity(user),
    }
    _return_dead_of(onsale.id, identities, now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_charges()} (onsale_id, hold_id, tickets, waiter, account, email, "
            "created_at) VALUES (%s, %s, %s, %s, %s, '', %s) ON CONFLICT (hold_id) DO NOTHING "
            "RETURNING id",
            [onsale.id, hold.pk, len(hold.seat_ids), identities[WAITER], identities[ACCOUNT], now],
        )
        if cursor.fetchone() is None:
            return  # this hold is counted already
    _count_each(onsale.id, onsale.ticket_limit, identities, len(hold.seat_ids))


def charge_order(*, onsale, order, waiter_id: str = "", buyer_key: str = "", user=None) -> None:
    """The hold's count moves to its order, in the order's transaction: the email (and an
    account or browser not counted at hold time) is counted up now, or `OnsaleLimitReached`."""
    tickets = len(order.tickets.all())
    wanted = {
        WAITER: waiter_identity(waiter_id, buyer_key),
        ACCOUNT: account_identity(user),
        EMAIL: email_identity(order.customer_email),
    }
    charge = BuyerCharge.objects.select_for_update().filter(hold_id=order.hold_id).first()
    if charge is None:  # a hold from before the screening joined the onsale
        BuyerCharge.objects.create(
            onsale_id=onsale.id,
            hold_id=order.hold_id,
            order=order,
            tickets=tickets,
            created_at=timezone.now(),
            **wanted,
        )
        _count_each(onsale.id, onsale.ticket_limit, wanted, tickets)
        return
    new = {kind: value for kind, value in wanted.items() if value and not getattr(charge, kind)}
    if charge.returned_at is not None:
        # Given back as a dead hold by a request that read the hold a moment before this order
        # took it (its clock just past the expiry): the order counts it all again.
        counting = {kind: getattr(charge, kind) for kind in KINDS} | new
        _count_each(onsale.id, onsale.ticket_limit, counting, charge.tickets)
        BuyerCharge.objects.filter(pk=charge.pk).update(order=order, returned_at=None, **new)
        return
    _count_each(onsale.id, onsale.ticket_limit, new, charge.tickets)
    BuyerCharge.objects.filter(pk=charge.pk).update(order=order, **new)


def charges_return_dead(*, now=None) -> int:
    """The sweep's step: every hold released or dead without an order gives its tickets back,
    one statement (and one per identity touched)."""
    condition, params = _dead_hold_condition(now or timezone.now())
    return _return_where(condition, params)


def charges_return_for_orders(order_ids: list) -> int:
    if not order_ids:
        return 0
    if connection.vendor == "postgresql":
        return _return_where("c.order_id = ANY(%s)", [list(order_ids)])
    marks = ", ".join(["%s"] * len(order_ids))
    return _return_where(f"c.order_id IN ({marks})", list(order_ids))


def tickets_return(*, order, count: int) -> int:
    """Refunded tickets of a paid order give theirs back; the rest stay counted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_charges()} AS c SET tickets = c.tickets - %s WHERE c.order_id = %s "
            "AND c.returned_at IS NULL AND c.tickets >= %s "
            "RETURNING c.onsale_id, c.waiter, c.account, c.email",
            [count, order.pk, count],
        )
        rows = [(onsale_id, count, *who) for onsale_id, *who in cursor.fetchall()]
    return _give_back(rows)


def charge_revive(*, order) -> None:
    """A late payment revives an expired order: its tickets count again within the limit, or
    the payment is refused (`OnsaleLimitLost`: refunded, like one whose seats were sold)."""
    charge = (
        BuyerCharge.objects.select_for_update()
        .select_related("onsale")
        .filter(order_id=order.pk, returned_at__isnull=False)
        .first()
    )
    if charge is None or charge.onsale.closed():
        return  # nothing to count again, or the onsale (and its limit) is over
    identities = {kind: getattr(charge, kind) for kind in KINDS}
    try:
        _count_each(charge.onsale_id, charge.onsale.ticket_limit, identities, charge.tickets)
    except errors.OnsaleLimitReached as refused:
        raise errors.OnsaleLimitLost(order=str(order.pk), seats=[], **refused.details) from None
    BuyerCharge.objects.filter(pk=charge.pk).update(returned_at=None)


def counted(*, onsale_id: int, kind: str, identity: str) -> int:
    """Tickets counted for one identity (staff pages, tests)."""
    return (
        BuyerTally.objects.filter(onsale_id=onsale_id, kind=kind, identity=identity)
        .values_list("tickets", flat=True)
        .first()
        or 0
    )


# ---- kept in step with orders, in the order's own transaction (ticketing.orders.signals) ------
@receiver(signals.orders_ended, dispatch_uid="onsale.limits.orders_ended")
def _orders_ended(sender, order_ids, status, **kwargs) -> None:
    charges_return_for_orders(list(order_ids))


@receiver(signals.order_revived, dispatch_uid="onsale.limits.order_revived")
def _order_revived(sender, order, **kwargs) -> None:
    charge_revive(order=order)


@receiver(signals.tickets_refunded, dispatch_uid="onsale.limits.tickets_refunded")
def _tickets_refunded(sender, order, tickets, **kwargs) -> None:
    tickets_return(order=order, count=len(tickets))
