"""The event types a partner can subscribe an endpoint to, named once: the services that emit
them (`webhooks.services.event_emit(type=...)`) import them from here.

Under each: when it is emitted. Its `data` is what the emitting service passes; the body a
partner receives is always `{"type", "timestamp", "data"}` (docs/partners.md, "Webhooks")."""

from __future__ import annotations

ORDER_PAID = "order.paid"
"""An order of the partner's was paid (by a provider or settled by the partner)."""

ORDER_CANCELLED = "order.cancelled"
"""An order of the partner's was cancelled before it was paid, or cancelled without a refund."""

ORDER_REFUNDED = "order.refunded"
"""Some or all tickets of a paid order of the partner's were refunded."""

SCREENING_CHANGED = "screening.changed"
"""A screening the partner sold tickets for moved (time, auditorium) or changed its details."""

SCREENING_CANCELLED = "screening.cancelled"
"""A screening the partner sold tickets for was cancelled."""

ALLOCATION_RELEASED = "allocation.released"
"""Seats set aside for the partner returned to general sale, with what it sold of them."""

CAMPAIGN_BUDGET_LOW = "campaign.budget_low"
"""A campaign of the partner's has spent most of its discount budget."""

WEBHOOK_TEST = "webhook.test"
"""Sent on request to one endpoint (`POST /api/v1/webhooks/{id}/test/`), whatever it subscribed
to: proves the URL, the signature check and the partner's handling end to end."""

SUBSCRIBABLE = (
    ORDER_PAID,
    ORDER_CANCELLED,
    ORDER_REFUNDED,
    SCREENING_CHANGED,
    SCREENING_CANCELLED,
    ALLOCATION_RELEASED,
    CAMPAIGN_BUDGET_LOW,
)
"""What an endpoint may ask for; the test event needs no subscription."""

ALL = (*SUBSCRIBABLE, WEBHOOK_TEST)
