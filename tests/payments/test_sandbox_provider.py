"""The sandbox provider: hosted page, test cards, signed webhook deliveries, parse_webhook, refund.

Only the sandbox's outbound HTTP (`payments.tasks._http_post`) is replaced, to record what would
be POSTed to our webhook endpoint; everything else (page, form, outbox, Celery task, signing) is
real.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from payments import signing, tasks
from payments.models import Payment, PaymentStatus
from payments.providers import get
from payments.providers.base import WebhookRejected
from payments.providers.sandbox import TEST_CARDS, SandboxProvider, event_body
from tests import factories

SECRET = "test-sandbox-secret"
SITE = "http://testserver"
RETURN_URL = "http://testserver/orders/back/?lang=en"


@pytest.fixture(autouse=True)
def _payments_settings(settings):
    settings.MARQUEE_PAYMENTS = {
        **settings.MARQUEE_PAYMENTS,
        "PROVIDERS": ["sandbox"],
        "SITE_URL": SITE,
        "SANDBOX_WEBHOOK_SECRET": SECRET,
        "WEBHOOK_TOLERANCE_SECONDS": 300,
    }


@pytest.fixture
def outbox(monkeypatch):
    """What the delivery task POSTs, instead of sending it."""
    sent = []

    def fake_post(url, body, headers, timeout):
        sent.append({"url": url, "body": body, "headers": headers, "timeout": timeout})
        return 200

    monkeypatch.setattr(tasks, "_http_post", fake_post)
    return sent


@pytest.fixture
def payment(screening):
    order = factories.pending_order(screening, "A1")
    payment = Payment.objects.create(
        order=order, provider="sandbox", amount=order.total, currency=order.currency
    )
    started = get("sandbox").start(payment, return_url=RETURN_URL)
    payment.provider_ref = started.provider_ref
    payment.redirect_url = started.redirect_url
    payment.save()
    return payment


def page_path(payment) -> str:
    parts = urlsplit(payment.redirect_url)
    return f"{parts.path}?{parts.query}"


def token(payment) -> str:
    return parse_qs(urlsplit(payment.redirect_url).query)["t"][0]


def card_form(payment, number, **overrides):
    return {
        "t": token(payment),
        "number": number,
        "expiry": "12/39",
        "cvc": "123",
        "name": "Test Buyer",
        **overrides,
    }


def delivered_event(sent, payment) -> dict:
    """The one POST recorded: to our sandbox webhook, signed with the secret, parsed body."""
    assert len(sent) == 1, sent
    request = sent[0]
    assert request["url"] == f"{SITE}/api/v1/payments/webhooks/sandbox/"
    assert request["timeout"] == 10
    assert request["headers"]["Content-Type"] == "application/json"
    signing.verify(SECRET, request["body"], request["headers"][signing.HEADER], tolerance=300)
    body = json.loads(request["body"])
    assert body["id"].startswith("evt_")
    assert abs(body["created"] - time.time()) < 60
    assert body["data"]["payment"] == payment.provider_ref
    assert body["data"]["amount"] == payment.amount
    assert body["data"]["currency"] == payment.currency
    return body


def back_to_shop(response, payment) -> None:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == "http://testserver/orders/back/"
    )
    assert parse_qs(location.query) == {"lang": ["en"], "payment": [payment.provider_ref]}


# --- start and the hosted page ------------------------------------------------------------------


def test_start_gives_a_hosted_page_in_test_mode(client, payment):
    assert payment.provider_ref.startswith("sbx_pay_")
    assert payment.redirect_url.startswith(f"{SITE}/payments/sandbox/{payment.provider_ref}/?t=")

    response = client.get(page_path(payment))

    assert response.status_code == 200
    html = response.content.decode()
    assert "TEST MODE — no real money" in html
    order = payment.order
    assert payment.amount > 0
    amount = f"{payment.amount // 100}.{payment.amount % 100:02d} {payment.currency}"
    assert amount in html
    assert order.code in html
    for card in TEST_CARDS:
        assert card.display in html
    for label in ("Card number", "Expiry (MM/YY)", "CVC", "Name on card"):
        assert f">{label}</label>" in html
    assert "csrfmiddlewaretoken" in html
    assert response["Cache-Control"] == "no-store"


def test_each_start_is_a_new_reference(payment):
    again = SandboxProvider().start(payment, return_url=RETURN_URL)
    assert again.provider_ref != payment.provider_ref


def test_a_changed_or_missing_token_is_refused(client, payment, outbox):
    assert client.get(f"/payments/sandbox/{payment.provider_ref}/").status_code == 400
    assert client.get(page_path(payment) + "x").status_code == 400
    other = SandboxProvider().start(payment, return_url=RETURN_URL)  # a token for another ref
    forged = f"/payments/sandbox/{payment.provider_ref}/?{urlsplit(other.redirect_url).query}"
    assert client.get(forged).status_code == 400
    response = client.post(
        f"/payments/sandbox/{payment.provider_ref}/",
        card_form(payment, "4242 4242 4242 4242", t="forged"),
    )
    assert response.status_code == 400
    assert outbox == []


def test_an_unknown_payment_is_not_found(client, payment):
    payment.provider_ref = "sbx_pay_other"
    payment.save()
    response = client.get(page_path(Payment.objects.get(pk=payment.pk)))
    assert response.status_code == 404


def test_the_page_is_csrf_protected(payment, outbox, django_capture_on_commit_callbacks):
    client = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4242424242424242")
        )
    assert response.status_code == 403
    assert outbox == []


# --- test cards -> signed events --------------------------------------------------------------


def test_4242_succeeds(client, payment, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4242 4242 4242 4242")
        )

    back_to_shop(response, payment)
    body = delivered_event(outbox, payment)
    assert body["type"] == "payment.succeeded"
    assert body["data"]["failure_reason"] == ""
    # The page itself marks nothing paid: only the verified webhook does.
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert payment.order.status == "pending_payment"


@pytest.mark.parametrize(
    ("number", "reason"),
    [("4000 0000 0000 0002", "card_declined"), ("4000-0000-0000-9995", "insufficient_funds")],
)
def test_declined_cards(
    client, payment, outbox, django_capture_on_commit_callbacks, number, reason
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, number)
        )

    back_to_shop(response, payment)
    body = delivered_event(outbox, payment)
    assert body["type"] == "payment.failed"
    assert body["data"]["failure_reason"] == reason


@pytest.mark.parametrize(("action", "outcome"), [("approve", "succeeded"), ("fail", "failed")])
def test_3184_needs_a_confirmation_step(
    client, payment, outbox, django_capture_on_commit_callbacks, action, outcome
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4000002760003184")
        )
    assert response.status_code == 302
    body = delivered_event(outbox, payment)
    assert body["type"] == "payment.requires_action"
    outbox.clear()

    step = client.get(response["Location"])
    assert step.status_code == 200
    html = step.content.decode()
    assert "Confirm this payment with your bank (test)" in html
    assert "TEST MODE — no real money" in html
    assert 'value="approve"' in html
    assert 'value="fail"' in html
    assert outbox == []

    challenge = parse_qs(urlsplit(response["Location"]).query)["c"][0]
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/payments/sandbox/{payment.provider_ref}/confirm/", {"c": challenge, "action": action}
        )
    back_to_shop(done, payment)
    body = delivered_event(outbox, payment)
    assert body["type"] == f"payment.{outcome}"
    expected_reason = "" if outcome == "succeeded" else "authentication_failed"
    assert body["data"]["failure_reason"] == expected_reason


def test_the_confirmation_step_needs_its_own_signed_challenge(client, payment, outbox):
    # The checkout token is not a challenge: a buyer cannot skip to "approve" without the 3DS card.
    response = client.post(
        f"/payments/sandbox/{payment.provider_ref}/confirm/",
        {"c": token(payment), "action": "approve"},
    )
    assert response.status_code == 400
    assert outbox == []


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"number": "4111 1111 1111 1111"}, "not a sandbox test card"),
        ({"expiry": "13/30"}, "month must be between"),
        ({"expiry": "01/20"}, "expired"),
        ({"cvc": "12"}, "3 or 4 digit CVC"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_card_details_are_a_form_error_and_nothing_is_sent(
    client, payment, outbox, django_capture_on_commit_callbacks, fields, error
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/",
            card_form(payment, "4242424242424242") | fields,
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert error in html
    assert 'aria-invalid="true"' in html
    assert "TEST MODE — no real money" in html
    assert callbacks == []
    assert outbox == []


def test_a_completed_payment_takes_no_more_cards(
    client, payment, outbox, django_capture_on_commit_callbacks
):
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED)
    assert client.get(page_path(payment)).status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4242424242424242")
        )
    assert response.status_code == 409
    assert outbox == []


def test_a_webhook_the_broker_cannot_take_waits_in_the_outbox_and_the_relay_delivers_it(
    client, payment, outbox, django_capture_on_commit_callbacks
):
    """The sandbox plays a provider, and a provider does not forget an event because our
    broker was down for a moment: the event is written with the card's outcome, in the outbox."""
    from datetime import timedelta

    from ticketing.celery import app
    from ticketing.outbox.models import MessageStatus, OutboxMessage
    from ticketing.outbox.services import relay_pending

    def use_broker(url: str) -> None:
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    real_broker = app.conf.broker_url
    app.conf.task_always_eager = False
    use_broker("redis://127.0.0.1:6399/0")  # nothing listens there
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4242424242424242")
            )
    finally:
        app.conf.task_always_eager = True
        use_broker(real_broker)

    back_to_shop(response, payment)  # the buyer is not kept waiting
    assert outbox == []
    waiting = OutboxMessage.objects.get()
    assert waiting.status == MessageStatus.PENDING

    assert relay_pending(older_than=timedelta(0)) == 1  # the broker is back
    assert delivered_event(outbox, payment)["type"] == "payment.succeeded"
    assert OutboxMessage.objects.get().status == MessageStatus.SENT


# --- the delivery, through the outbox ---------------------------------------------------------


def _queued(body: str):
    """The event as the hosted page leaves it: an outbox message for the worker to deliver."""
    from ticketing.outbox.models import OutboxMessage
    from ticketing.outbox.topics import SANDBOX_WEBHOOK_TOPIC

    return OutboxMessage.objects.create(
        topic=SANDBOX_WEBHOOK_TOPIC, dedupe_key="sandbox-test", payload={"body": body}
    )


def _deliver(message):
    from ticketing.outbox.services import deliver

    deliver(message.pk)
    message.refresh_from_db()
    return message


def test_delivery_retries_connection_errors_and_5xx_then_stops_on_success(db, monkeypatch):
    from ticketing.outbox.models import MessageStatus

    answers = [OSError("connection refused"), 503, 200]
    tries = []

    def flaky_post(url, body, headers, timeout):
        tries.append(headers[signing.HEADER])
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(tasks, "_http_post", flaky_post)
    body = event_body(
        event_type="payment.succeeded", provider_ref="sbx_pay_x", amount=100, currency="EUR"
    )
    message = _queued(body)
    assert _deliver(message).status == MessageStatus.PENDING  # the relay tries again
    assert "DeliveryFailed" in message.last_error
    assert _deliver(message).status == MessageStatus.PENDING
    assert _deliver(message).status == MessageStatus.SENT
    assert len(tries) == 3
    assert answers == []
    assert _deliver(message).status == MessageStatus.SENT and len(tries) == 3  # sent once


def test_delivery_gives_up_after_the_outboxs_attempts_and_staff_see_it_failed(db, monkeypatch):
    from ticketing.outbox.models import MessageStatus
    from ticketing.outbox.services import MAX_ATTEMPTS

    tries = []

    def down(url, body, headers, timeout):
        tries.append(1)
        return 502

    monkeypatch.setattr(tasks, "_http_post", down)
    message = _queued("{}")
    for _ in range(MAX_ATTEMPTS):
        _deliver(message)
    assert len(tries) == MAX_ATTEMPTS
    assert message.status == MessageStatus.FAILED


def test_a_4xx_is_final(db, monkeypatch):
    from ticketing.outbox.models import MessageStatus

    tries = []
    monkeypatch.setattr(tasks, "_http_post", lambda *a: tries.append(1) or 400)
    assert _deliver(_queued("{}")).status == MessageStatus.SENT
    assert len(tries) == 1


# --- parse_webhook ----------------------------------------------------------------------------


def signed(body: bytes, timestamp: int | None = None) -> dict:
    return {signing.HEADER: signing.sign(SECRET, body, timestamp)}


def test_parse_webhook_reads_a_signed_event(db):
    body = event_body(
        event_type="payment.failed",
        provider_ref="sbx_pay_abc",
        amount=1250,
        currency="EUR",
        failure_reason="card_declined",
    ).encode()
    event = SandboxProvider().parse_webhook(body, signed(body))
    raw = json.loads(body)
    assert event.event_id == raw["id"]
    assert event.type == "payment.failed"
    assert event.provider_ref == "sbx_pay_abc"
    assert event.amount == 1250
    assert event.currency == "EUR"
    assert event.failure_reason == "card_declined"
    assert event.raw == raw


def test_parse_webhook_header_lookup_is_case_insensitive():
    body = event_body(
        event_type="payment.succeeded", provider_ref="sbx_pay_abc", amount=1, currency="EUR"
    ).encode()
    headers = {"marquee-signature": signing.sign(SECRET, body)}
    assert SandboxProvider().parse_webhook(body, headers).type == "payment.succeeded"


def test_unknown_event_types_are_ignored():
    body = json.dumps({"id": "evt_1", "type": "charge.dispute.created", "data": {}}).encode()
    event = SandboxProvider().parse_webhook(body, signed(body))
    assert event.type == "ignored"
    assert event.event_id == "evt_1"


def _rejected(body: bytes, headers: dict) -> str:
    with pytest.raises(WebhookRejected) as caught:
        SandboxProvider().parse_webhook(body, headers)
    return caught.value.code


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("bad_signature", "signature_invalid"),
        ("wrong_secret", "signature_invalid"),
        ("tampered_body", "signature_invalid"),
        ("stale", "signature_expired"),
        ("future", "signature_expired"),
        ("missing_header", "signature_missing"),
        ("garbled_header", "signature_malformed"),
    ],
)
def test_parse_webhook_rejects_bad_signatures(case, code):
    body = event_body(
        event_type="payment.succeeded", provider_ref="sbx_pay_abc", amount=1250, currency="EUR"
    ).encode()
    headers = signed(body)
    if case == "bad_signature":
        headers = {signing.HEADER: headers[signing.HEADER][:-4] + "0000"}
    elif case == "wrong_secret":
        headers = {signing.HEADER: signing.sign("another-secret", body)}
    elif case == "tampered_body":
        body = body.replace(b"1250", b"1")
    elif case == "stale":
        headers = signed(body, int(time.time()) - 301)
    elif case == "future":
        headers = signed(body, int(time.time()) + 301)
    elif case == "missing_header":
        headers = {}
    elif case == "garbled_header":
        headers = {signing.HEADER: "v1=abc"}
    assert _rejected(body, headers) == code


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"type": "payment.succeeded"}',
        b'{"id": "evt_1", "type": "payment.succeeded"}',
        b'{"id": "evt_1", "type": "payment.succeeded", "data": {"amount": 1, "currency": "EUR"}}',
        b'{"id": "evt_1", "type": "payment.succeeded", "data": {"payment": "sbx_pay_a", "amount": "1", "currency": "EUR"}}',
        b'{"id": "evt_1", "type": "payment.succeeded", "data": {"payment": "sbx_pay_a", "amount": 1.5, "currency": "EUR"}}',
        b'{"id": "evt_1", "type": "payment.succeeded", "data": {"payment": "sbx_pay_a", "amount": 1}}',
    ],
)
def test_parse_webhook_rejects_malformed_bodies(body):
    assert _rejected(body, signed(body)) == "malformed"


# --- refunds ----------------------------------------------------------------------------------


def test_refund_is_deterministic_per_key(payment):
    provider = SandboxProvider()
    first = provider.refund(payment, 500, idempotency_key="refund-1")
    again = provider.refund(payment, 500, idempotency_key="refund-1")
    other = provider.refund(payment, 500, idempotency_key="refund-2")
    assert first == again
    assert first.succeeded
    assert first.provider_ref.startswith("sbx_re_")
    assert other.provider_ref != first.provider_ref


def test_refund_of_more_than_was_paid_does_not_succeed(payment):
    result = SandboxProvider().refund(payment, payment.amount + 1, idempotency_key="too-much")
    assert not result.succeeded


# --- end to end: the sandbox page, its delivery task and our real webhook endpoint -------------


@pytest.fixture
def wired(monkeypatch):
    """The sandbox's HTTP boundary routed to our own app in-process (as a real POST would be)."""
    answers = []

    def post_to_our_app(url, body, headers, timeout):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == SITE
        response = Client().post(
            parts.path,
            data=body,
            content_type=headers["Content-Type"],
            headers={signing.HEADER: headers[signing.HEADER]},
        )
        answers.append(response)
        return response.status_code

    monkeypatch.setattr(tasks, "_http_post", post_to_our_app)
    return answers


def test_a_paid_test_card_pays_the_order_through_the_verified_webhook(
    client, payment, wired, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4242424242424242")
        )
    back_to_shop(response, payment)
    assert [answer.status_code for answer in wired] == [200]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.order.status == "paid"


def test_a_declined_test_card_leaves_the_order_unpaid(
    client, payment, wired, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/payments/sandbox/{payment.provider_ref}/", card_form(payment, "4000000000000002")
        )
    assert [answer.status_code for answer in wired] == [200]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_reason == "card_declined"
    assert payment.order.status == "pending_payment"


def test_the_hosted_page_keeps_its_url_on_our_site_but_lets_browsers_send_their_origin(
    client, screening
):
    """A browser on a `no-referrer` page POSTs with `Origin: null`, which CSRF refuses."""
    from payments.services import payment_start
    from tests import factories

    order = factories.pending_order(screening, "E5")
    payment = payment_start(
        order_id=order.pk, provider_name="sandbox", return_url="http://testserver/", actor="test"
    )
    page = client.get(payment.redirect_url.replace("http://127.0.0.1:8000", ""))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
