"""An onsale that closes: from its closing on, its screenings sell as any other (no queue, no
onsale ticket limit), in every process at the instant, and a waiting browser is sent to the
seats; a closing before the opening is refused by the admin and by the database."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from tests import factories
from tests.onsale.support import onsale
from tests.onsale.test_fast_path import fast_get, waiter_cookie
from ticketing.onsale import services, waiting
from ticketing.onsale.models import Onsale

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rooms(settings):
    settings.MARQUEE_ONSALE = {"LIVE_ADMISSIONS": 1, "KEEP_SECONDS": 300, "GRACE_SECONDS": 120}


@pytest.fixture
def film_night():
    screening = factories.screening(factories.auditorium(factories.cinema(), rows=3, per_row=10))
    return screening


def closed_onsale(screening, **fields) -> Onsale:
    made = onsale(screening, opens_in=-3600, **fields)
    Onsale.objects.filter(pk=made.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    services._sync(made.pk)  # as the admin's save does on commit: the caches dropped
    return made


def hold(browser, screening, *labels):
    return browser.post(
        f"/screenings/{screening.pk}/hold/",
        {"seat": factories.seats(screening.auditorium, *labels)},
    )


def test_a_closed_onsales_screening_opens_without_the_queue(film_night):
    closed_onsale(film_night)

    response = Client().get(f"/screenings/{film_night.pk}/")

    assert response.status_code == 200


def test_the_onsales_ticket_limit_ends_with_it(film_night):
    closed_onsale(film_night, ticket_limit=2)

    held = hold(Client(), film_night, "A1", "A2", "A3", "A4")

    assert held.status_code == 302  # four, past the closed onsale's two


def test_the_closing_takes_effect_at_its_instant_in_a_warm_process(film_night):
    sale = onsale(film_night, opens_in=-3600)
    closing = timezone.now() + timedelta(seconds=1)
    Onsale.objects.filter(pk=sale.pk).update(closes_at=closing)
    services._sync(sale.pk)
    stranger = Client()
    before = stranger.get(f"/screenings/{film_night.pk}/")  # the onsale cached now
    time.sleep(max(0.0, (closing - timezone.now()).total_seconds()) + 0.05)
    after = stranger.get(f"/screenings/{film_night.pk}/")

    assert before.status_code == 303 and before["Location"].startswith(f"/wait/{sale.pk}/")
    assert after.status_code == 200


def test_a_waiting_browser_is_sent_to_the_seats_once_the_onsale_closes(film_night):
    sale = onsale(film_night, opens_in=-3600)
    first, second = Client(), Client()
    first.get(f"/wait/{sale.pk}/?s={film_night.pk}")  # the one live admission
    waiting_page = second.get(f"/wait/{sale.pk}/?s={film_night.pk}")
    assert waiting_page.status_code == 200  # in the queue

    Onsale.objects.filter(pk=sale.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    services._sync(sale.pk)
    poll = second.get(f"/wait/{sale.pk}/status.json").json()
    page = second.get(f"/wait/{sale.pk}/?s={film_night.pk}")

    assert poll == {"state": "closed", "reload": True}
    assert page.status_code == 302 and page["Location"] == f"/screenings/{film_night.pk}/"
    waiting.forget(sale.pk)


@pytest.mark.usefixtures("keep_the_test_transaction")
def test_the_fast_path_tells_a_closed_onsales_waiters_to_reload(film_night):
    sale = closed_onsale(film_night)
    Client().get(f"/wait/{sale.pk}/?s={film_night.pk}")  # Django caches the onsale

    status, _headers, body, delegated = fast_get(
        f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("late")
    )
    page_status, headers, _body, page_delegated = fast_get(
        f"/wait/{sale.pk}/?s={film_night.pk}", cookie=waiter_cookie("late")
    )

    assert (status, delegated, body) == (200, 0, b'{"state": "closed", "reload": true}')
    assert (page_status, page_delegated) == (302, 0)
    assert headers["Location"] == f"/screenings/{film_night.pk}/"


def test_the_admin_refuses_a_closing_before_the_opening(admin_client, film_night):
    opens = timezone.now() + timedelta(days=1)
    form = {
        "name": "Backwards",
        "opens_at_0": opens.strftime("%Y-%m-%d"),
        "opens_at_1": opens.strftime("%H:%M:%S"),
        "closes_at_0": (opens - timedelta(hours=1)).strftime("%Y-%m-%d"),
        "closes_at_1": (opens - timedelta(hours=1)).strftime("%H:%M:%S"),
        "admit_per_minute": "0",
        "admission_minutes": "10",
        "ticket_limit": "6",
        "screenings": [str(film_night.pk)],
        "days_zone": "UTC",
    }

    response = admin_client.post("/admin/onsale/onsale/add/", form)

    assert response.status_code == 200  # the form again
    assert "The onsale must close after it opens." in response.text
    assert not Onsale.objects.filter(name="Backwards").exists()


def test_the_database_refuses_a_closing_before_the_opening():
    opens = timezone.now()

    with pytest.raises(IntegrityError), transaction.atomic():
        Onsale.objects.create(name="x", opens_at=opens, closes_at=opens - timedelta(minutes=1))


@pytest.mark.usefixtures("keep_the_test_transaction")
def test_a_poll_for_an_onsale_memory_and_redis_forgot_is_answered_by_django(film_night):
    from ticketing.onsale import selectors

    sale = closed_onsale(film_night)
    selectors.forget(onsale_id=sale.pk, screening_ids=[film_night.pk])  # as on another process

    status, _headers, body, delegated = fast_get(
        f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("late")
    )
    again = fast_get(f"/wait/{sale.pk}/status.json", cookie=waiter_cookie("late"))

    assert (status, delegated, body) == (200, 1, b'{"state": "closed", "reload": true}')
    assert (again[0], again[3]) == (200, 0)  # Django put it back
