"""Helpers shared by the API tests: the error shape, and a few common requests."""

from __future__ import annotations

from typing import Any


def assert_error(response, status: int, code: str) -> dict[str, Any]:
    """The response is `status` with the one error shape and `code`; returns its details."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], dict), error
    return error["details"]


def hold(client, screening, *seat_ids: int, **extra):
    return client.post(
        "/api/v1/holds/",
        {"screening": screening.pk, "seats": list(seat_ids)},
        format="json",
        **extra,
    )


def order(client, hold_id, tickets: list[tuple[int, str]], **extra):
    return client.post(
        "/api/v1/orders/",
        {
            "hold": str(hold_id),
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "tickets": [{"seat": seat, "ticket_type": kind} for seat, kind in tickets],
        },
        format="json",
        **extra,
    )


def seat_statuses(client, screening) -> dict[int, str]:
    response = client.get(f"/api/v1/screenings/{screening.pk}/seats/")
    assert response.status_code == 200, response.content[:300]
    return {seat["id"]: seat["status"] for seat in response.json()["seats"]}
