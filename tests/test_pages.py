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


def test_the_api_docs_page_serves_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn.jsdelivr.net" not in page
