"""Saving a screening: the exclusion constraint decides an overlap, and says so with a typed
error that the admin shows on the form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from tests import factories
from tests.concurrency import run_concurrently
from tests.screenings.test_admin import screening_form
from ticketing import errors
from ticketing.screenings import services
from ticketing.screenings.admin import ScreeningAdmin
from ticketing.screenings.models import Screening

AT_EIGHT = datetime(2031, 1, 10, 19, 0, tzinfo=UTC)  # 20:00 in Paris


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's")


def show(room, starts_at, film=None) -> Screening:
    """An unsaved screening of 100 minutes (its end is filled in when saved)."""
    film = film or factories.film(runtime_minutes=100)
    return Screening(film=film, auditorium=room, starts_at=starts_at)


@pytest.mark.django_db
def test_an_overlap_the_database_refuses_is_a_typed_error_and_saves_nothing(postgresql, auditorium):
    services.screening_save(screening=show(auditorium, AT_EIGHT))
    late = show(auditorium, AT_EIGHT + timedelta(hours=1))

    with pytest.raises(errors.ScreeningOverlap) as refused:
        services.screening_save(screening=late)

    assert refused.value.code == "screening_overlap"
    assert "overlaps this time" in refused.value.message
    assert Screening.objects.filter(auditorium=auditorium).count() == 1  # and still usable


@pytest.mark.django_db
def test_a_cancelled_screening_does_not_count_as_an_overlap(postgresql, auditorium):
    services.screening_save(screening=show(auditorium, AT_EIGHT))
    cancelled = show(auditorium, AT_EIGHT + timedelta(hours=1))
    cancelled.status = "cancelled"

    services.screening_save(screening=cancelled)

    assert cancelled.pk is not None


@pytest.mark.django_db
def test_checking_a_screening_saves_nothing_and_leaves_it_unsaved(auditorium):
    screening = show(auditorium, AT_EIGHT)

    services.screening_check(screening=screening)

    assert screening.pk is None and screening._state.adding
    assert not Screening.objects.filter(auditorium=auditorium).exists()
    services.screening_save(screening=screening)  # the instance is still good to save
    assert Screening.objects.filter(auditorium=auditorium).count() == 1


@pytest.mark.django_db
def test_checking_an_overlapping_screening_raises_the_typed_error(postgresql, auditorium):
    services.screening_save(screening=show(auditorium, AT_EIGHT))

    with pytest.raises(errors.ScreeningOverlap):
        services.screening_check(screening=show(auditorium, AT_EIGHT + timedelta(minutes=30)))


@pytest.mark.django_db
def test_checking_a_moved_screening_leaves_the_stored_one_as_it_was(postgresql, auditorium):
    screening = services.screening_save(screening=show(auditorium, AT_EIGHT))
    screening.starts_at += timedelta(days=1)
    screening.ends_at += timedelta(days=1)

    services.screening_check(screening=screening)

    assert Screening.objects.get(pk=screening.pk).starts_at == AT_EIGHT


@pytest.mark.django_db(transaction=True)
def test_a_screening_saved_between_the_forms_check_and_the_save_is_named_on_the_form(
    postgresql, admin_client, auditorium, monkeypatch
):
    film = factories.film(runtime_minutes=100)
    original_save_form = ScreeningAdmin.save_form
    raced = []

    def save_form_while_someone_else_schedules(self, request, form, change):
        # After the form (and its check with the database) said yes, before the INSERT: another
        # member of staff commits a screening at the same time, on their own connection.
        if not raced:
            other = show(auditorium, AT_EIGHT + timedelta(minutes=30), film=film)
            run_concurrently([lambda: services.screening_save(screening=other)])
            raced.append(other)
        return original_save_form(self, request, form, change)

    monkeypatch.setattr(ScreeningAdmin, "save_form", save_form_while_someone_else_schedules)

    response = admin_client.post(
        "/admin/screenings/screening/add/", screening_form(film, auditorium, "2031-01-10", "20:00")
    )

    assert response.status_code == 200, response.status_code
    assert "Overlaps" in response.content.decode()
    assert list(Screening.objects.filter(film=film)) == raced
