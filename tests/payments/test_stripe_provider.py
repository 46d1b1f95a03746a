"""The Stripe provider against Stripe's documented payloads and signature scheme.

Webhooks are signed here the way Stripe signs them (`Stripe-Signature: t=<ts>,v1=<hex>` with
HMAC-SHA256 over "<ts>.<body>"), with a test secret. Stripe's HTTP API is faked only at the HTTP
boundary: the real `stripe.StripeClient` talks to an `HTTPClient` that records each request and
answers with the JSON Stripe documents, so the parameters we send are checked as they go out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from payments import providers
from payments.models import Payment
from payments.providers.base import WebhookRejected
from payments.providers.stripe import StripeProvider
from tests.payments import stripe_payloads as sp
from ticketing.orders.models import Order

SECRET = "whsec_test_marquee_0123456789"
TOLERANCE = 300


@pytest.fixture(autouse=True)
def stripe_settings(settings):
    settings.MARQUEE_PAYMENTS = {
        **settings.MARQUEE_PAYMENTS,
        "PROVIDERS": ["stripe", "sandbox"],
        "STRIPE_SECRET_KEY": "sk_test_marquee",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TOLERANCE_SECONDS": TOLERANCE,
    }
    return settings


def sign(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


class FakeStripeHTTP(stripe.HTTPClient):
    """Stripe's API at the HTTP boundary: canned responses by (method, path), requests kept."""

    name = "fake"

    def __init__(self, responses: dict[tuple[str, str], tuple[int, dict]]):
        super().__init__()
        self.responses = responses
        self.requests: list[dict] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        path = urlsplit(url).path
        form = parse_qs(post_data.decode() if isinstance(post_data, bytes) else post_data or "")
        self.requests.append(
            {
                "method": method.upper(),
                "path": path,
                "headers": dict(headers or {}),
                "form": {key: values[-1] for key, values in form.items()},
            }
        )
        status, payload = self.responses[(method.upper(), path)]
        return json.dumps(payload), status, {"Request-Id": "req_fake"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError

    def close(self):
        pass


def make_payment(**kwargs) -> Payment:
    order = Order(code="MQ7K2P", customer_email="ada@example.com", currency="EUR", total=2450)
    fields = {
        "id": uuid.uuid4(),
        "order": order,
        "provider": "stripe",
        "amount": 2450,
        "currency": "EUR",
        "created_at": timezone.now(),
    }
    fields.update(kwargs)
    return Payment(**fields)


# --- start: a Checkout Session -------------------------------------------------------------


def test_start_creates_a_checkout_session_with_our_amount_metadata_and_idempotency_key():
    payment = make_payment()
    session = sp.checkout_session(
        session_id="cs_test_start1",
        status="open",
        payment_status="unpaid",
        payment_intent=None,
        payment_id=str(payment.id),
    )
    http = FakeStripeHTTP({("POST", "/v1/checkout/sessions"): (200, session)})

    started = StripeProvider(http_client=http).start(
        payment, return_url="https://marquee.example/orders/return/"
    )

    assert started.provider_ref == "cs_test_start1"
    assert started.redirect_url == "https://checkout.stripe.com/c/pay/cs_test_start1"
    [sent] = http.requests
    assert sent["method"] == "POST" and sent["path"] == "/v1/checkout/sessions"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_marquee"
    assert sent["headers"]["Idempotency-Key"] == f"marquee-checkout-{payment.id}"
    form = sent["form"]
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "2450"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][product_data][name]"] == "Order MQ7K2P"
    assert form["success_url"] == "https://marquee.example/orders/return/"
    # A buyer who gives up on Stripe's page comes back marked, and is offered to pay again.
    assert form["cancel_url"] == "https://marquee.example/orders/return/?cancelled=1"
    assert form["client_reference_id"] == str(payment.id)
    assert form["metadata[payment_id]"] == str(payment.id)
    assert form["metadata[order_code]"] == "MQ7K2P"
    assert form["payment_intent_data[metadata][payment_id]"] == str(payment.id)
    assert form["payment_intent_data[metadata][order_code]"] == "MQ7K2P"
    assert form["customer_email"] == "ada@example.com"
    assert int(form["expires_at"]) == int(payment.created_at.timestamp()) + 3600


def test_a_retried_start_sends_the_same_request():
    payment = make_payment()
    session = sp.checkout_session(session_id="cs_test_same", status="open", payment_intent=None)
    http = FakeStripeHTTP({("POST", "/v1/checkout/sessions"): (200, session)})
    provider = StripeProvider(http_client=http)

    provider.start(payment, return_url="https://marquee.example/r/")
    provider.start(payment, return_url="https://marquee.example/r/")

    first, second = http.requests
    assert first["form"] == second["form"]
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]


def test_an_old_payment_gets_stripes_default_session_lifetime():
    payment = make_payment(created_at=timezone.now() - timedelta(minutes=45))
    session = sp.checkout_session(status="open", payment_intent=None)
    http = FakeStripeHTTP({("POST", "/v1/checkout/sessions"): (200, session)})

    StripeProvider(http_client=http).start(payment, return_url="https://marquee.example/r/")

    assert "expires_at" not in http.requests[0]["form"]


def test_stripe_refusing_a_session_raises_its_error():
    http = FakeStripeHTTP(
        {("POST", "/v1/checkout/sessions"): (400, sp.error("Invalid currency: xxx"))}
    )
    with pytest.raises(stripe.InvalidRequestError, match="Invalid currency"):
        StripeProvider(http_client=http).start(
            make_payment(currency="XXX"), return_url="https://marquee.example/r/"
        )


# --- refund --------------------------------------------------------------------------------


def test_refund_finds_the_payment_intent_and_refunds_with_our_idempotency_key():
    payment = make_payment(provider_ref="cs_test_paid")
    http = FakeStripeHTTP(
        {
            ("GET", "/v1/checkout/sessions/cs_test_paid"): (
                200,
                sp.checkout_session(session_id="cs_test_paid", payment_intent="pi_3QPaid"),
            ),
            ("POST", "/v1/refunds"): (200, sp.refund(refund_id="re_3QOne", amount=1200)),
        }
    )

    refunded = StripeProvider(http_client=http).refund(payment, 1200, idempotency_key="refund-abc")

    assert refunded.provider_ref == "re_3QOne"
    assert refunded.succeeded is True
    lookup, create = http.requests
    assert lookup["method"] == "GET" and lookup["path"] == "/v1/checkout/sessions/cs_test_paid"
    assert create["path"] == "/v1/refunds"
    assert create["form"]["payment_intent"] == "pi_3QPaid"
    assert create["form"]["amount"] == "1200"
    assert create["form"]["metadata[payment_id]"] == str(payment.id)
    assert create["headers"]["Idempotency-Key"] == "refund-abc"


def test_a_pending_refund_is_not_yet_succeeded():
    http = FakeStripeHTTP(
        {
            ("GET", "/v1/checkout/sessions/cs_test_paid"): (
                200,
                sp.checkout_session(session_id="cs_test_paid"),
            ),
            ("POST", "/v1/refunds"): (200, sp.refund(status="pending")),
        }
    )
    refunded = StripeProvider(http_client=http).refund(
        make_payment(provider_ref="cs_test_paid"), 1200, idempotency_key="k"
    )
    assert refunded == type(refunded)(provider_ref="re_3QExample0001", succeeded=False)


def test_refunding_more_than_was_paid_raises_stripes_error():
    http = FakeStripeHTTP(
        {
            ("GET", "/v1/checkout/sessions/cs_test_paid"): (
                200,
                sp.checkout_session(session_id="cs_test_paid"),
            ),
            ("POST", "/v1/refunds"): (
                400,
                sp.error(
                    "Refund amount (€30.00) is greater than unrefunded amount on charge (€24.50)",
                    code="amount_too_large",
                ),
            ),
        }
    )
    with pytest.raises(stripe.InvalidRequestError):
        StripeProvider(http_client=http).refund(
            make_payment(provider_ref="cs_test_paid"), 3000, idempotency_key="k"
        )


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_a_missing_key_is_a_clear_configuration_error(settings, key):
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, key: ""}
    provider = StripeProvider(http_client=FakeStripeHTTP({}))
    with pytest.raises(ImproperlyConfigured, match=key):
        if key == "STRIPE_SECRET_KEY":
            provider.start(make_payment(), return_url="https://marquee.example/r/")
        else:
            body = sp.body(sp.event("checkout.session.completed", sp.checkout_session()))
            provider.parse_webhook(body, sign(body))


def test_the_registry_gives_the_stripe_provider_when_enabled(settings):
    assert isinstance(providers.get("stripe"), StripeProvider)
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "PROVIDERS": ["sandbox"]}
    with pytest.raises(providers.UnknownProvider):
        providers.get("stripe")


# --- webhooks: what each event means -------------------------------------------------------


def parse(payload: dict):
    body = sp.body(payload)
    return StripeProvider().parse_webhook(body, sign(body))


def test_checkout_session_completed_and_paid_is_a_success_with_amount_and_currency():
    payload = sp.event(
        "checkout.session.completed",
        sp.checkout_session(session_id="cs_test_ok", amount_total=2450, currency="eur"),
        event_id="evt_ok",
    )
    event = parse(payload)
    assert (event.event_id, event.type, event.provider_ref) == (
        "evt_ok",
        "payment.succeeded",
        "cs_test_ok",
    )
    assert (event.amount, event.currency) == (2450, "EUR")
    assert event.raw == payload


def test_a_delayed_payment_method_completes_unpaid_then_succeeds_or_fails_async():
    unpaid = parse(
        sp.event(
            "checkout.session.completed",
            sp.checkout_session(session_id="cs_test_sepa", payment_status="unpaid"),
        )
    )
    assert (unpaid.type, unpaid.provider_ref) == ("payment.requires_action", "cs_test_sepa")

    paid = parse(
        sp.event(
            "checkout.session.async_payment_succeeded",
            sp.checkout_session(session_id="cs_test_sepa", amount_total=900, currency="chf"),
        )
    )
    assert (paid.type, paid.provider_ref, paid.amount, paid.currency) == (
        "payment.succeeded",
        "cs_test_sepa",
        900,
        "CHF",
    )

    failed = parse(
        sp.event(
            "checkout.session.async_payment_failed",
            sp.checkout_session(session_id="cs_test_sepa", payment_status="unpaid"),
        )
    )
    assert (failed.type, failed.provider_ref, failed.failure_reason) == (
        "payment.failed",
        "cs_test_sepa",
        "async_payment_failed",
    )


def test_an_expired_session_is_a_failed_payment():
    event = parse(
        sp.event(
            "checkout.session.expired",
            sp.checkout_session(
                session_id="cs_test_gone",
                status="expired",
                payment_status="unpaid",
                payment_intent=None,
            ),
        )
    )
    assert (event.type, event.provider_ref, event.failure_reason) == (
        "payment.failed",
        "cs_test_gone",
        "expired",
    )


@pytest.mark.parametrize(
    "payload",
    [
        sp.event("payment_intent.succeeded", sp.payment_intent()),
        sp.event(
            "payment_intent.payment_failed",
            sp.payment_intent(status="requires_payment_method", last_payment_error=sp.DECLINED),
        ),
        sp.event("customer.created", {"id": "cus_1", "object": "customer"}),
        sp.event(
            "checkout.session.completed",
            sp.checkout_session(payment_status="no_payment_required", amount_total=0),
        ),
    ],
    ids=["pi-succeeded", "pi-failed", "unrelated", "no-payment-required"],
)
def test_events_that_do_not_move_a_checkout_payment_are_ignored(payload):
    event = parse(payload)
    assert event.type == "ignored"
    assert event.event_id == payload["id"]


def test_a_refund_that_succeeded_is_reported_under_the_refund_id():
    event = parse(
        sp.event("refund.updated", sp.refund(refund_id="re_3QDone", amount=1200, currency="eur"))
    )
    assert (event.type, event.provider_ref, event.amount, event.currency) == (
        "refund.succeeded",
        "re_3QDone",
        1200,
        "EUR",
    )
    created = parse(sp.event("refund.created", sp.refund(refund_id="re_3QNow")))
    assert (created.type, created.provider_ref) == ("refund.succeeded", "re_3QNow")


@pytest.mark.parametrize("status", ["pending", "requires_action"])
def test_a_refund_not_yet_settled_is_ignored(status):
    assert parse(sp.event("refund.updated", sp.refund(status=status))).type == "ignored"


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_refund_stripe_gave_up_on_is_reported_as_failed(status):
    event = parse(sp.event("refund.updated", sp.refund(status=status)))
    assert event.type == "refund.failed"


def test_charge_refunded_reports_its_latest_succeeded_refund():
    first = sp.refund(refund_id="re_first", amount=500)
    latest = {**sp.refund(refund_id="re_latest", amount=700), "created": sp.CREATED + 900}
    event = parse(sp.event("charge.refunded", sp.charge_refunded(refunds=[first, latest])))
    assert (event.type, event.provider_ref, event.amount, event.currency) == (
        "refund.succeeded",
        "re_latest",
        700,
        "EUR",
    )
    # Newer API versions leave the refunds out of the charge: refund.updated carries them.
    assert parse(sp.event("charge.refunded", sp.charge_refunded())).type == "ignored"


# --- webhooks: what is refused -------------------------------------------------------------


@pytest.fixture
def completed_body():
    return sp.body(sp.event("checkout.session.completed", sp.checkout_session()))


def rejected(body: bytes, headers: dict) -> str:
    with pytest.raises(WebhookRejected) as info:
        StripeProvider().parse_webhook(body, headers)
    return info.value.code


def test_a_signature_made_with_another_secret_is_refused(completed_body):
    headers = sign(completed_body, secret="whsec_someone_else")
    assert rejected(completed_body, headers) == "signature_invalid"


def test_a_body_changed_after_signing_is_refused(completed_body):
    headers = sign(completed_body)
    tampered = completed_body.replace(b"2450", b"1")
    assert rejected(tampered, headers) == "signature_invalid"


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "t=1764180000", "v1=deadbeef"])
def test_a_missing_or_garbled_header_is_refused(completed_body, header):
    headers = {"Stripe-Signature": header} if header else {}
    assert rejected(completed_body, headers) in {"signature_missing", "signature_invalid"}
    if not header:
        assert rejected(completed_body, headers) == "signature_missing"


def test_a_stale_timestamp_is_refused_even_with_a_good_signature(completed_body):
    headers = sign(completed_body, timestamp=int(time.time()) - TOLERANCE - 5)
    assert rejected(completed_body, headers) == "signature_expired"


def test_a_timestamp_from_the_future_is_refused(completed_body):
    headers = sign(completed_body, timestamp=int(time.time()) + TOLERANCE + 60)
    assert rejected(completed_body, headers) == "signature_expired"


def test_a_timestamp_inside_the_tolerance_is_accepted(completed_body):
    headers = sign(completed_body, timestamp=int(time.time()) - TOLERANCE + 30)
    assert StripeProvider().parse_webhook(completed_body, headers).type == "payment.succeeded"


def test_any_of_several_signatures_may_match_while_a_secret_is_rolled(completed_body):
    timestamp = int(time.time())
    good = sign(completed_body, timestamp=timestamp)["Stripe-Signature"].split(",v1=")[1]
    headers = {"stripe-signature": f"t={timestamp},v1={'0' * 64},v1={good},v0=legacy"}
    assert StripeProvider().parse_webhook(completed_body, headers).type == "payment.succeeded"


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00", b"[]", b'{"id": "evt_1", "object": "event"}', b'"x"'],
    ids=["not-json", "not-utf8", "a-list", "no-type-or-data", "a-string"],
)
def test_a_malformed_body_is_refused_even_when_signed(body):
    assert rejected(body, sign(body)) == "malformed"
