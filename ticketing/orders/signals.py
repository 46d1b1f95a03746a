"""What the orders service announces, inside the transaction of the change.

Layers above orders (promotions) keep their own records in step with an order without orders
knowing them: a receiver runs in the same transaction as the change, so its writes commit or
roll back with it, and a receiver that raises refuses the change (a late payment whose promo
code has no use left is refunded, as one whose seats are gone is).
"""

from django.dispatch import Signal

# An order reached a final unpaid or given-back status: cancelled, expired or refunded.
# Arguments: order_ids (a list), status.
orders_ended = Signal()

# An expired order is being paid after all (a late payment that re-claimed its seats).
# Arguments: order. A receiver raises errors.SeatsLost (or a subclass) to refuse it.
order_revived = Signal()

# Some tickets of a paid order were refunded. Arguments: order, tickets.
tickets_refunded = Signal()
