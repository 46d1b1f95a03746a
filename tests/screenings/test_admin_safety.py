"""Staff cannot break a sale from the admin (issue 9, hole 6): a screening with held or sold
seats keeps its auditorium, and cancelling goes through the service, refused while paid orders
exist. Before, both were a plain field edit: every seat sold again in the other room, and a
cancelled screening's paid orders stayed paid with valid QR codes."""

from __future__ import annotations

import pytest

from tests import factories
from tests.screenings.test_admin import screening_form
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.orders.services import order_mark_paid
from ticketing.screenings.models import Screening, ScreeningStatus

pytestmark = pytest.mark.django_db


def change(admin_client, screening, **fields):
    local = screening.starts_at.astimezone(screening.auditorium.cinema.tz)
    data = screening_form(
        screening.film,
        screening.auditorium,
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M"),
        **{"ends_at_0": "", "ends_at_1": "", **fields},
    )
    return admin_client.post(f"/admin/screenings/screening/{screening.pk}/change/", data)


def test_moving_a_screening_with_held_seats_is_a_form_error(admin_client, screening, cinema):
    factories.held(screening, "A1")
    other = factories.auditorium(cinema, name="Screen nine")

    response = change(admin_client, screening, auditorium=other.pk)

    assert response.status_code == 200
    assert "its auditorium cannot change" in response.content.decode()
    assert Screening.objects.get(pk=screening.pk).auditorium_id == screening.auditorium_id


def test_cancelling_with_a_paid_order_is_refused_and_says_why(admin_client, screening):
    order = factories.pending_order(screening, "A1")
    order_mark_paid(order_id=order.pk, actor="provider:sandbox")

    response = change(admin_client, screening, status="cancelled")

    assert response.status_code == 200
    assert "1 paid order(s)" in response.content.decode()
    assert Screening.objects.get(pk=screening.pk).status == ScreeningStatus.SCHEDULED


def test_cancelling_from_the_admin_releases_holds_through_the_service(admin_client, screening):
    hold = factories.held(screening, "B1")

    response = change(admin_client, screening, status="cancelled")

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Screening.objects.get(pk=screening.pk).status == ScreeningStatus.CANCELLED
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.RELEASED
