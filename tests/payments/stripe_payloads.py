"""Stripe events and API responses in the shape Stripe documents them (API reference: the Event,
Checkout Session, PaymentIntent, Charge and Refund objects), trimmed to the fields that matter and
filled with our own example values. Builders, so a test can say which session, amount, currency.
"""

from __future__ import annotations

import json

API_VERSION = "2025-09-30.clover"
CREATED = 1_764_180_000


def event(type_: str, obj: dict, *, event_id: str = "evt_1QExample0001") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": CREATED,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def body(payload: dict) -> bytes:
    return json.dumps(payload, indent=2).encode()


# --- objects -------------------------------------------------------------------------------


def checkout_session(
    *,
    session_id: str = "cs_test_a1Example",
    amount_total: int = 2450,
    currency: str = "eur",
    status: str = "complete",
    payment_status: str = "paid",
    payment_intent: str | None = "pi_3QExample0001",
    payment_id: str = "8f0d1c2e-0000-4000-8000-000000000001",
    order_code: str = "MQ7K2P",
) -> dict:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": amount_total,
        "amount_total": amount_total,
        "cancel_url": "https://marquee.example/orders/return/",
        "client_reference_id": payment_id,
        "created": CREATED,
        "currency": currency,
        "customer": None,
        "customer_details": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "customer_email": "ada@example.com",
        "expires_at": CREATED + 3600,
        "livemode": False,
        "metadata": {"order_code": order_code, "payment_id": payment_id},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "status": status,
        "success_url": "https://marquee.example/orders/return/",
        "url": None if status != "open" else f"https://checkout.stripe.com/c/pay/{session_id}",
    }


def payment_intent(
    *,
    intent_id: str = "pi_3QExample0001",
    amount: int = 2450,
    currency: str = "eur",
    status: str = "succeeded",
    last_payment_error: dict | None = None,
    payment_id: str = "8f0d1c2e-0000-4000-8000-000000000001",
) -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0,
        "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_Example",
        "created": CREATED,
        "currency": currency,
        "last_payment_error": last_payment_error,
        "latest_charge": "ch_3QExample0001" if status == "succeeded" else None,
        "livemode": False,
        "metadata": {"order_code": "MQ7K2P", "payment_id": payment_id},
        "payment_method_types": ["card"],
        "status": status,
    }


def refund(
    *,
    refund_id: str = "re_3QExample0001",
    amount: int = 1200,
    currency: str = "eur",
    status: str = "succeeded",
    intent_id: str = "pi_3QExample0001",
) -> dict:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_3QExample0002" if status == "succeeded" else None,
        "charge": "ch_3QExample0001",
        "created": CREATED + 600,
        "currency": currency,
        "metadata": {},
        "payment_intent": intent_id,
        "reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


def charge_refunded(*, refunds: list[dict] | None = None, amount: int = 2450) -> dict:
    charge = {
        "id": "ch_3QExample0001",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": sum(r["amount"] for r in refunds or []),
        "captured": True,
        "created": CREATED,
        "currency": "eur",
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": "pi_3QExample0001",
        "refunded": False,
        "status": "succeeded",
    }
    if refunds is not None:  # only when the event's API version still includes them
        charge["refunds"] = {
            "object": "list",
            "data": refunds,
            "has_more": False,
            "total_count": len(refunds),
            "url": "/v1/charges/ch_3QExample0001/refunds",
        }
    return charge


DECLINED = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.",
    "doc_url": "https://stripe.com/docs/error-codes/card-declined",
}


# --- API errors ----------------------------------------------------------------------------


def error(message: str, *, type_: str = "invalid_request_error", code: str = "") -> dict:
    return {"error": {"type": type_, "code": code, "message": message}}
