"""The catalogue's words, decided once for the API and the storefront: a screening is ahead until
it starts, a film is now showing once out with a screening ahead, coming soon before its release
date (previews or not), and never both."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from ticketing.screenings import selectors as catalogue

pytestmark = pytest.mark.django_db


def test_a_screening_is_ahead_until_the_instant_it_starts(screening):
    just_before = screening.starts_at - timedelta(microseconds=1)
    assert list(catalogue.screenings_ahead(now=just_before)) == [screening]
    assert list(catalogue.screenings_ahead(now=screening.starts_at)) == []


def test_a_film_previewed_before_its_release_is_coming_soon_not_now_showing(auditorium):
    today, now = timezone.localdate(), timezone.now()
    film = factories.film(release_date=today + timedelta(days=7))
    factories.screening(auditorium, timedelta(days=2), film=film)

    assert list(catalogue.films_coming_soon(today=today)) == [film]
    assert list(catalogue.films_now_showing(now=now, today=today)) == []
    assert list(catalogue.films_now_showing_or_coming_soon(now=now, today=today)) == [film]


def test_on_its_release_day_a_film_with_a_screening_ahead_is_now_showing(auditorium):
    today, now = timezone.localdate(), timezone.now()
    film = factories.film(release_date=today)
    factories.screening(auditorium, timedelta(hours=1), film=film)

    assert list(catalogue.films_now_showing(now=now, today=today)) == [film]
    assert list(catalogue.films_coming_soon(today=today)) == []


def test_a_film_out_with_nothing_ahead_is_neither(auditorium):
    today, now = timezone.localdate(), timezone.now()
    film = factories.film(release_date=today - timedelta(days=100))
    factories.screening(auditorium, timedelta(hours=-3), film=film)
    factories.screening(auditorium, timedelta(days=1), film=film, status="cancelled")

    assert list(catalogue.films_now_showing_or_coming_soon(now=now, today=today)) == []
