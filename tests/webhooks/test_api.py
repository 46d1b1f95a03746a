"""The webhook endpoints of the partner API: a partner's endpoints with their secret shown once,
a test event and redelivery through the same path as every event, the delivery log, secret
rotation; another partner's ids are 404 everywhere, and a key without `webhooks` gets 403."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from tests import factories
from tests.api.support import assert_error
from ticketing.webhooks import events, services
from ticketing.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

from .conftest import client_for, endpoint_for

pytestmark = pytest.mark.django_db

SOME = "00000000-0000-4000-8000-000000000000"


def _create(api, url="https://hooks.example.com/marquee", events_=("order.paid",), **extra):
    return api.post(
        "/api/v1/webhooks/", {"url": url, "events": list(events_), **extra}, format="json"
    )


def _emit(partner, key="order.paid:1"):
    return services.event_emit(
        partner=partner, type=events.ORDER_PAID, data={"order": "MQ-1"}, dedupe_key=key
    )


# ---- endpoints -------------------------------------------------------------------------------
def test_creating_an_endpoint_shows_its_secret_once(hooks_api):
    response = _create(hooks_api, events_=["order.paid", "order.refunded"], description="shop")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["order.paid", "order.refunded"]
    assert created["is_active"] is True and created["description"] == "shop"
    listed = hooks_api.get("/api/v1/webhooks/").json()
    assert [e["id"] for e in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]
    shown = hooks_api.get(f"/api/v1/webhooks/{created['id']}/").json()
    assert "secret" not in shown and shown["url"] == "https://hooks.example.com/marquee"


def test_an_unknown_event_type_is_refused(hooks_api):
    response = _create(hooks_api, events_=["order.exploded"])
    details = assert_error(response, 400, "invalid")
    assert "events" in details
    assert_error(_create(hooks_api, events_=[]), 400, "invalid")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://10.0.0.5/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:192.168.1.1]/hooks",
        "https://localhost/hooks",
        "https://api.localhost/hooks",
    ],
)
def test_loopback_and_private_addresses_are_refused(hooks_api, settings, url):
    settings.MARQUEE_WEBHOOKS = {**settings.MARQUEE_WEBHOOKS, "ALLOW_PRIVATE_ADDRESSES": False}
    assert_error(_create(hooks_api, url=url), 400, "webhook_url_not_allowed")
    assert not WebhookEndpoint.objects.exists()


def test_production_takes_https_only_unless_a_setting_allows_http(hooks_api, settings):
    settings.MARQUEE_WEBHOOKS = {**settings.MARQUEE_WEBHOOKS, "ALLOW_HTTP": False}
    details = assert_error(
        _create(hooks_api, url="http://hooks.example.com/x"), 400, "webhook_url_not_allowed"
    )
    assert details["url"] == "http://hooks.example.com/x"
    ftp = _create(hooks_api, url="ftp://hooks.example.com/x")
    assert_error(ftp, 400, "webhook_url_not_allowed")
    assert _create(hooks_api, url="https://hooks.example.com/x").status_code == 201
    settings.MARQUEE_WEBHOOKS = {**settings.MARQUEE_WEBHOOKS, "ALLOW_HTTP": True}
    assert _create(hooks_api, url="http://hooks.example.com/x").status_code == 201


def test_credentials_in_the_url_are_refused(hooks_api):
    response = _create(hooks_api, url="https://user:pw@hooks.example.com/x")
    assert_error(response, 400, "webhook_url_not_allowed")


def test_the_settings_default_to_refusing_http_and_private_addresses_in_production():
    from ticketing import settings as production

    assert production.DEBUG is False  # the suite runs production's settings
    assert production.MARQUEE_WEBHOOKS["ALLOW_HTTP"] is False
    assert production.MARQUEE_WEBHOOKS["ALLOW_PRIVATE_ADDRESSES"] is False


def test_deleting_an_endpoint_stops_its_deliveries(hooks_api, partner):
    endpoint, _ = endpoint_for(partner, "https://hooks.example.com/a")
    (delivery,) = _emit(partner)

    assert hooks_api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204

    assert_error(
        hooks_api.get(f"/api/v1/webhooks/{endpoint.pk}/"), 404, "webhook_endpoint_not_found"
    )
    assert hooks_api.get("/api/v1/webhooks/").json()["results"] == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert _emit(partner, key="order.paid:2") == []
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()  # kept for staff


# ---- test event, redelivery, rotation --------------------------------------------------------
def test_a_test_event_is_signed_and_sent_now(
    hooks_api, partner, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_for(partner, receiver.url, events=["screening.cancelled"])

    with django_capture_on_commit_callbacks(execute=True):
        response = hooks_api.post(f"/api/v1/webhooks/{endpoint.pk}/test/")

    assert response.status_code == 202, response.content
    assert response.json()["event_type"] == "webhook.test"
    (request,) = receiver.wait_for(1)
    body = Webhook(secret).verify(request.body, request.headers)
    assert body["type"] == "webhook.test" and body["data"]["endpoint"] == str(endpoint.pk)
    delivery = WebhookDelivery.objects.get(pk=response.json()["id"])
    assert delivery.status == DeliveryStatus.DELIVERED


def test_a_turned_off_endpoint_gets_no_test_event(hooks_api, partner):
    endpoint, _ = endpoint_for(partner, "https://hooks.example.com/a")
    services.endpoint_disable(endpoint_id=endpoint.pk, reason="Answered 410 Gone.")

    details = assert_error(
        hooks_api.post(f"/api/v1/webhooks/{endpoint.pk}/test/"), 409, "webhook_endpoint_disabled"
    )
    assert details["reason"] == "Answered 410 Gone."


def test_a_delivery_is_redelivered_with_the_same_id_and_a_fresh_round(
    hooks_api, partner, make_receiver, django_capture_on_commit_callbacks
):
    receiver = make_receiver(200)
    _, secret = endpoint_for(partner, receiver.url)
    (delivery,) = _emit(partner)
    services.delivery_attempt(delivery_id=delivery.pk)

    with django_capture_on_commit_callbacks(execute=True):
        response = hooks_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")

    assert response.status_code == 202, response.content
    first, again = receiver.wait_for(2)
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery.event_id
    Webhook(secret).verify(again.body, again.headers)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1


def test_a_delivery_being_sent_is_not_redelivered_on_top(hooks_api, partner):
    endpoint_for(partner, "https://hooks.example.com/a")
    (delivery,) = _emit(partner)
    services.deliveries_send_due()  # claimed: `sending` for its worker

    response = hooks_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
    assert_error(response, 409, "webhook_delivery_in_flight")


def test_rotating_the_secret_shows_the_new_one_once_and_keeps_the_old_one_for_a_while(
    hooks_api, partner
):
    endpoint, old = endpoint_for(partner, "https://hooks.example.com/a")

    response = hooks_api.post(
        f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", {"overlap_hours": 2}, format="json"
    )

    assert response.status_code == 200, response.content
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != old
    assert rotated["previous_secret_expires_at"] is not None
    endpoint.refresh_from_db()
    assert endpoint.secret == rotated["secret"] and endpoint.previous_secret == old
    assert (endpoint.previous_secret_expires_at - endpoint.created_at).total_seconds() > 7000
    now = hooks_api.post(
        f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", {"overlap_hours": 0}, format="json"
    ).json()
    assert now["previous_secret_expires_at"] is None
    assert_error(
        hooks_api.post(
            f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/", {"overlap_hours": -1}, format="json"
        ),
        400,
        "invalid",
    )


# ---- the delivery log ------------------------------------------------------------------------
def test_the_delivery_log_is_paginated_and_filtered_by_endpoint_and_status(hooks_api, partner):
    a, _ = endpoint_for(partner, "https://hooks.example.com/a")
    b, _ = endpoint_for(partner, "https://hooks.example.com/b")
    _emit(partner, key="order.paid:1")
    _emit(partner, key="order.paid:2")
    delivered = WebhookDelivery.objects.filter(endpoint=a).first()
    WebhookDelivery.objects.filter(pk=delivered.pk).update(status=DeliveryStatus.DELIVERED)

    log = hooks_api.get("/api/v1/webhooks/deliveries/").json()
    assert log["count"] == 4 and len(log["results"]) == 4
    first = log["results"][0]
    assert {"status", "attempts", "next_attempt_at", "last_status_code", "last_response"} <= set(
        first
    )
    of_b = hooks_api.get("/api/v1/webhooks/deliveries/", {"endpoint": str(b.pk)}).json()
    assert {d["endpoint"] for d in of_b["results"]} == {str(b.pk)} and of_b["count"] == 2
    done = hooks_api.get("/api/v1/webhooks/deliveries/", {"status": "delivered"}).json()
    assert [d["id"] for d in done["results"]] == [str(delivered.pk)]
    page = hooks_api.get("/api/v1/webhooks/deliveries/", {"page": 2}).status_code
    assert page == 404  # one page of four
    assert_error(hooks_api.get("/api/v1/webhooks/deliveries/", {"status": "lost"}), 400, "invalid")


# ---- isolation and scopes --------------------------------------------------------------------
@pytest.fixture
def theirs(other_partner):
    """Another partner's endpoint and delivery."""
    endpoint, _ = endpoint_for(other_partner, "https://hooks.example.com/theirs")
    (delivery,) = _emit(other_partner)
    return endpoint, delivery


def test_a_partner_never_sees_another_partners_endpoints_or_deliveries(hooks_api, theirs):
    endpoint, delivery = theirs
    not_found = "webhook_endpoint_not_found"

    assert hooks_api.get("/api/v1/webhooks/").json()["results"] == []
    assert hooks_api.get("/api/v1/webhooks/deliveries/").json()["results"] == []
    assert_error(hooks_api.get(f"/api/v1/webhooks/{endpoint.pk}/"), 404, not_found)
    assert_error(hooks_api.delete(f"/api/v1/webhooks/{endpoint.pk}/"), 404, not_found)
    assert_error(hooks_api.post(f"/api/v1/webhooks/{endpoint.pk}/test/"), 404, not_found)
    assert_error(hooks_api.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/"), 404, not_found)
    assert_error(
        hooks_api.get("/api/v1/webhooks/deliveries/", {"endpoint": str(endpoint.pk)}),
        404,
        not_found,
    )
    assert_error(
        hooks_api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/"),
        404,
        "webhook_delivery_not_found",
    )
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.deleted_at is None
    assert endpoint.previous_secret == "" and WebhookDelivery.objects.count() == 1


def test_unknown_and_malformed_ids_are_404(hooks_api):
    for path in (f"/api/v1/webhooks/{SOME}/", "/api/v1/webhooks/nonsense/"):
        assert_error(hooks_api.get(path), 404, "webhook_endpoint_not_found")
    assert_error(
        hooks_api.post("/api/v1/webhooks/deliveries/nonsense/redeliver/"),
        404,
        "webhook_delivery_not_found",
    )


REQUESTS = [
    ("get", "/api/v1/webhooks/"),
    ("post", "/api/v1/webhooks/"),
    ("get", f"/api/v1/webhooks/{SOME}/"),
    ("delete", f"/api/v1/webhooks/{SOME}/"),
    ("post", f"/api/v1/webhooks/{SOME}/test/"),
    ("post", f"/api/v1/webhooks/{SOME}/rotate-secret/"),
    ("get", "/api/v1/webhooks/deliveries/"),
    ("post", f"/api/v1/webhooks/deliveries/{SOME}/redeliver/"),
]


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_a_key_without_the_webhooks_scope_gets_403_naming_it(method, path):
    _, raw = factories.partner_with_key(scopes=["read", "book", "settle"])

    response = getattr(client_for(raw), method)(path, {}, format="json")

    details = assert_error(response, 403, "scope_required")
    assert details["scope"] == "webhooks"


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_a_signed_in_session_cannot_manage_webhooks(method, path):
    client = APIClient()
    client.force_login(get_user_model().objects.create_user("ada", password="x"))

    assert getattr(client, method)(path, {}, format="json").status_code == 403


@pytest.mark.parametrize(("method", "path"), REQUESTS)
def test_no_key_at_all_is_401(method, path):
    assert getattr(APIClient(), method)(path, {}, format="json").status_code == 401
