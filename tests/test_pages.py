import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_the_home_page_lists_films_with_screenings_ahead(client, screening):
    factories.film(title="Nothing scheduled")
    page = client.get("/")
    assert page.status_code == 200
    assert screening.film.title in page.content.decode()
    assert "Nothing scheduled" not in page.content.decode()


def test_health_reports_the_database_and_the_cache(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"database": "ok", "cache": "ok"}
