"""Every outbox topic, named once: senders (`message_add(topic=...)`) and handlers
(`@handler(...)`) import them from here, so a topic cannot be spelled two ways. A message's
dedupe key is `<topic>:<id of the event>`. Under each topic: what happened, and its payload."""

from __future__ import annotations

CONFIRMATION_TOPIC = "order.confirmation"
"""An order was paid, email its tickets: {"order_id"}; staff resending it add {"resend": <id of the resend>}."""

REFUNDED_TOPIC = "order.refunded"
"""Some or all tickets were refunded: {"order_id", "amount", "currency", "ticket_ids" (None: all), "refund_id", "reason"}."""

SCREENING_CANCELLED_TOPIC = "order.screening_cancelled"
"""The order's screening was cancelled and the order refunded (or, paid without money, ended): {"order_id", "amount", "currency"}; one per order."""

AUTO_REFUNDED_TOPIC = "payment.refunded_seats_lost"
"""A payment that could not become tickets was refunded: {"order_id", "amount", "currency", "payment_id", "refund_id", "reason"}."""

DUPLICATE_REFUNDED_TOPIC = "payment.refunded_duplicate"
"""A second payment of a paid order was refunded: {"order_id", "amount", "currency", "payment_id", "refund_id", "reason"}."""

SANDBOX_WEBHOOK_TOPIC = "payments.sandbox_webhook"
"""The sandbox provider reports a card's outcome to our webhook endpoint: {"body" (the event's JSON)}."""

SESSIONS_EXPIRE_TOPIC = "payment.sessions_expire"
"""Orders were closed unpaid, close their payments' pages at the provider: {"provider", "payment_ids"}."""

WEBHOOK_DELIVERY_TOPIC = "webhooks.delivery"
"""A partner webhook's first attempt, after the event's commit (ticketing/webhooks): {"delivery_id"}."""
