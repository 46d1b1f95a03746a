"""Staff declare an onsale in the admin (a film's screenings over some days, the rate, the
limit), pause it; the seat map's selector finds it; partners are not queued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.onsale.support import onsale
from ticketing.onsale import selectors, services, waiting
from ticketing.onsale.models import Onsale

pytestmark = pytest.mark.django_db


def test_staff_declare_an_onsale_with_a_films_screenings_over_its_opening_weekend(
    admin_client, auditorium
):
    blockbuster, other = factories.film(), factories.film()
    weekend = [factories.screening(auditorium, timedelta(days=d), film=blockbuster) for d in (3, 4)]
    later = factories.screening(auditorium, timedelta(days=9), film=blockbuster)
    factories.screening(auditorium, timedelta(days=3, hours=4), film=other)
    first_day = (timezone.now() + timedelta(days=3)).date()
    opens = timezone.now() + timedelta(days=1)

    response = admin_client.post(
        "/admin/onsale/onsale/add/",
        {
            "name": "Opening weekend",
            "opens_at_0": opens.strftime("%Y-%m-%d"),
            "opens_at_1": opens.strftime("%H:%M:%S"),
            "admit_per_minute": "600",
            "admission_minutes": "8",
            "ticket_limit": "4",
            "film": str(blockbuster.pk),
            "first_day": first_day.isoformat(),
            "last_day": (first_day + timedelta(days=1)).isoformat(),
            "days_zone": "UTC",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    sale = Onsale.objects.get()
    assert set(sale.screenings.all()) == set(weekend)
    assert later not in sale.screenings.all()
    assert (sale.admit_per_minute, sale.admission_minutes, sale.ticket_limit) == (600, 8, 4)
    assert selectors.onsale_for_screening(weekend[0].pk).id == sale.pk
    assert selectors.onsale_for_screening(later.pk) is None


def test_pausing_from_the_admin_list_stops_admissions(
    admin_client, screening, django_capture_on_commit_callbacks
):
    sale = onsale(screening)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/onsale/onsale/", {"action": "pause", "_selected_action": [str(sale.pk)]}
        )

    sale.refresh_from_db()
    assert sale.paused
    assert waiting.visit(sale.pk, "someone", load=lambda: None).paused
    assert admin_client.get("/admin/onsale/onsale/").status_code == 200


def test_the_selector_answers_from_memory_after_the_first_look(
    django_assert_num_queries, screening
):
    sale = onsale(screening)
    selectors.onsale_for_screening(screening.pk)

    with django_assert_num_queries(0):
        assert selectors.onsale_for_screening(screening.pk).id == sale.pk


def test_a_change_reaches_the_selector_and_the_waiting_room(
    screening, django_capture_on_commit_callbacks
):
    sale = onsale(screening, admit_per_minute=10)
    selectors.onsale_for_screening(screening.pk)

    with django_capture_on_commit_callbacks(execute=True):
        services.onsale_set_rate(onsale_id=sale.pk, admit_per_minute=99)

    assert selectors.onsale_for_screening(screening.pk).admit_per_minute == 99
    assert waiting.visit(sale.pk, "w", load=lambda: None).rate == 99


def test_partners_are_not_queued(api, screening):
    onsale(screening)

    response = api.post("/api/v1/holds/", {"screening": screening.pk, "quantity": 2}, format="json")

    assert response.status_code == 201


def test_a_screening_taken_out_of_an_onsale_or_its_onsale_deleted_is_not_gated_any_more(
    client, auditorium, django_capture_on_commit_callbacks
):
    kept, taken_out = (
        factories.screening(auditorium),
        factories.screening(auditorium, timedelta(days=2)),
    )
    sale = onsale(kept, taken_out)
    assert client.get(f"/screenings/{taken_out.pk}/").status_code == 303  # gated, and cached

    with django_capture_on_commit_callbacks(execute=True):
        sale.screenings.remove(taken_out)
    assert client.get(f"/screenings/{taken_out.pk}/").status_code == 200
    assert client.get(f"/screenings/{kept.pk}/").status_code == 303

    with django_capture_on_commit_callbacks(execute=True):
        sale.delete()
    assert client.get(f"/screenings/{kept.pk}/").status_code == 200
