"""After the rush: does the database agree that no seat was sold or held twice?

Plain SQL on the bench database, so the checks do not trust the code they check. Call after
django.setup(), once the server has stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LIVE_ORDER = "('pending_payment', 'paid')"

CHECKS: list[tuple[str, str]] = [
    (
        "no seat has two live claims (unique constraint)",
        """
        SELECT screening_id, seat_id, count(*) FROM inventory_seatclaim
        WHERE expires_at IS NULL OR expires_at > now()
        GROUP BY 1, 2 HAVING count(*) > 1
        """,
    ),
    (
        "no seat is in two live orders (tickets of pending/paid orders)",
        f"""
        SELECT o.screening_id, t.seat_id, count(*) FROM orders_ticket t
        JOIN orders_order o ON o.id = t.order_id
        WHERE o.status IN {LIVE_ORDER}
        GROUP BY 1, 2 HAVING count(*) > 1
        """,
    ),
    (
        "no seat is in two live holds, or in a live hold and a live order",
        f"""
        WITH live AS (
            SELECT c.screening_id, c.seat_id FROM inventory_seatclaim c
            JOIN inventory_hold h ON h.id = c.hold_id
            WHERE h.status = 'active' AND h.expires_at > now() AND c.order_id IS NULL
            UNION ALL
            SELECT o.screening_id, t.seat_id FROM orders_ticket t
            JOIN orders_order o ON o.id = t.order_id
            WHERE o.status IN {LIVE_ORDER}
        )
        SELECT screening_id, seat_id, count(*) FROM live GROUP BY 1, 2 HAVING count(*) > 1
        """,
    ),
    (
        "every ticket of a pending/paid order has a live claim owned by that order",
        f"""
        SELECT o.code, t.seat_id FROM orders_ticket t
        JOIN orders_order o ON o.id = t.order_id
        WHERE o.status IN {LIVE_ORDER} AND NOT EXISTS (
            SELECT 1 FROM inventory_seatclaim c
            WHERE c.screening_id = o.screening_id AND c.seat_id = t.seat_id AND c.order_id = o.id
              AND (c.expires_at IS NULL OR c.expires_at > now())
        )
        """,
    ),
    (
        "every claim of an order is one of its tickets",
        """
        SELECT c.order_id, c.seat_id FROM inventory_seatclaim c
        WHERE c.order_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM orders_ticket t WHERE t.order_id = c.order_id AND t.seat_id = c.seat_id
        )
        """,
    ),
    (
        "holds are all or nothing: a live or ordered hold claims exactly the seats it asked for",
        """
        SELECT h.id, jsonb_array_length(h.seat_ids), count(c.id) FROM inventory_hold h
        LEFT JOIN inventory_seatclaim c ON c.hold_id = h.id
        WHERE h.status IN ('active', 'ordered')
        GROUP BY h.id HAVING count(c.id) <> jsonb_array_length(h.seat_ids)
        """,
    ),
    (
        "every claimed seat belongs to the screening's auditorium",
        """
        SELECT c.screening_id, c.seat_id FROM inventory_seatclaim c
        JOIN screenings_screening s ON s.id = c.screening_id
        JOIN screenings_seat st ON st.id = c.seat_id
        WHERE st.auditorium_id <> s.auditorium_id
        """,
    ),
    (
        "sold + held <= capacity per screening",
        """
        SELECT s.id, count(DISTINCT c.id) AS claimed, count(DISTINCT st.id) AS capacity
        FROM screenings_screening s
        JOIN screenings_seat st ON st.auditorium_id = s.auditorium_id AND st.is_sellable
        LEFT JOIN inventory_seatclaim c ON c.screening_id = s.id
             AND (c.expires_at IS NULL OR c.expires_at > now())
        GROUP BY s.id HAVING count(DISTINCT c.id) > count(DISTINCT st.id)
        """,
    ),
    # ---- promo codes (invariants 5 and 10); nothing is refunded or released during a rush
    (
        "a campaign's spent = its redemptions' discounts = its orders' tickets' discounts",
        """
        SELECT c.id, c.spent,
               (SELECT coalesce(sum(r.discount), 0) FROM promotions_redemption r
                 WHERE r.campaign_id = c.id AND r.released_at IS NULL),
               (SELECT coalesce(sum(t.discount), 0) FROM promotions_redemption r
                  JOIN orders_ticket t ON t.order_id = r.order_id
                 WHERE r.campaign_id = c.id AND r.released_at IS NULL AND t.refunded_at IS NULL)
        FROM promotions_campaign c
        WHERE c.spent <> (SELECT coalesce(sum(r.discount), 0) FROM promotions_redemption r
                           WHERE r.campaign_id = c.id AND r.released_at IS NULL)
           OR c.spent <> (SELECT coalesce(sum(t.discount), 0) FROM promotions_redemption r
                            JOIN orders_ticket t ON t.order_id = r.order_id
                           WHERE r.campaign_id = c.id AND r.released_at IS NULL
                             AND t.refunded_at IS NULL)
        """,
    ),
    (
        "no campaign past its budget",
        "SELECT id, spent, budget FROM promotions_campaign WHERE spent > budget",
    ),
    (
        "an order's discount is its tickets' and its redemption's; none without a redemption",
        f"""
        SELECT o.code, o.discount, r.discount,
               (SELECT coalesce(sum(t.discount), 0) FROM orders_ticket t WHERE t.order_id = o.id)
        FROM orders_order o
        LEFT JOIN promotions_redemption r ON r.order_id = o.id AND r.released_at IS NULL
        WHERE o.status IN {LIVE_ORDER} AND (
            o.discount <> coalesce(r.discount, 0)
            OR o.discount <> (SELECT coalesce(sum(t.discount), 0) FROM orders_ticket t
                               WHERE t.order_id = o.id))
        """,
    ),
    (
        "no code past its limits: uses = live redemptions <= max uses, per email too",
        """
        SELECT p.code, p.uses, p.max_uses,
               (SELECT count(*) FROM promotions_redemption r
                 WHERE r.code_id = p.id AND r.released_at IS NULL)
        FROM promotions_promocode p
        WHERE (p.max_uses IS NOT NULL AND p.uses > p.max_uses)
           OR p.uses <> (SELECT count(*) FROM promotions_redemption r
                          WHERE r.code_id = p.id AND r.released_at IS NULL)
        UNION ALL
        SELECT p.code, e.uses, p.max_uses_per_email, NULL
        FROM promotions_codeemailuse e JOIN promotions_promocode p ON p.id = e.code_id
        WHERE p.max_uses_per_email IS NOT NULL AND e.uses > p.max_uses_per_email
        """,
    ),
]


@dataclass
class Integrity:
    failures: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    claimed: int = 0
    capacity: int = 0
    sold: int = 0  # paid: claims without an expiry
    pending: int = 0  # claims of orders awaiting payment
    held: int = 0  # claims of holds not (yet) turned into orders
    orders_live: int = 0
    tickets_live: int = 0
    holds_active: int = 0
    redemptions: int = 0  # live ones
    spent: int = 0  # the campaigns' spent, added up
    budget: int = 0
    per_screening: dict[int, tuple[int, int]] = field(
        default_factory=dict
    )  # id -> (claimed, capacity)

    @property
    def ok(self) -> bool:
        return not self.failures


def check(
    *,
    seats_held_by_client: int | None = None,
    discount_given_to_clients: int | None = None,
    clean_run: bool = True,
) -> Integrity:
    from django.db import connection

    result = Integrity()
    with connection.cursor() as cursor:
        for name, sql in CHECKS:
            cursor.execute(sql)
            rows = cursor.fetchmany(5)
            if rows:
                result.failures.append(f"{name}: e.g. {rows}")
            else:
                result.passed.append(name)
        cursor.execute(
            """
            SELECT s.id,
                   (SELECT count(*) FROM inventory_seatclaim c WHERE c.screening_id = s.id
                      AND (c.expires_at IS NULL OR c.expires_at > now())),
                   (SELECT count(*) FROM screenings_seat st WHERE st.auditorium_id = s.auditorium_id
                      AND st.is_sellable)
            FROM screenings_screening s ORDER BY s.id
            """
        )
        result.per_screening = {sid: (claimed, cap) for sid, claimed, cap in cursor.fetchall()}
        result.claimed = sum(c for c, _ in result.per_screening.values())
        result.capacity = sum(cap for _, cap in result.per_screening.values())
        cursor.execute(
            "SELECT count(*) FILTER (WHERE expires_at IS NULL), "
            "count(*) FILTER (WHERE expires_at > now() AND order_id IS NOT NULL), "
            "count(*) FILTER (WHERE expires_at > now() AND order_id IS NULL) "
            "FROM inventory_seatclaim"
        )
        result.sold, result.pending, result.held = cursor.fetchone()
        cursor.execute(
            f"SELECT count(DISTINCT o.id), count(t.id) FROM orders_order o "
            f"LEFT JOIN orders_ticket t ON t.order_id = o.id WHERE o.status IN {LIVE_ORDER}"
        )
        result.orders_live, result.tickets_live = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM inventory_hold WHERE status = 'active' AND expires_at > now()"
        )
        result.holds_active = cursor.fetchone()[0]
        cursor.execute(
            "SELECT (SELECT count(*) FROM promotions_redemption WHERE released_at IS NULL), "
            "coalesce(sum(spent), 0), coalesce(sum(budget), 0) FROM promotions_campaign"
        )
        result.redemptions, result.spent, result.budget = cursor.fetchone()
    connection.close()
    # Nothing expires during a run (holds last minutes), so with no lost answers the database
    # must hold exactly the seats the buyers were told they got, and the discounts.
    if clean_run:
        for name, told, found in (
            (
                "live claims = seats the buyers were given (201 holds)",
                seats_held_by_client,
                result.claimed,
            ),
            (
                "campaigns' spent = the discounts the buyers were told (201 orders)",
                discount_given_to_clients,
                result.spent,
            ),
        ):
            if told is None:
                continue
            if told != found:
                result.failures.append(
                    f"{name}: the buyers were told {told}, the database has {found}"
                )
            else:
                result.passed.append(name)
    return result
