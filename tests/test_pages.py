import pytest

pytestmark = pytest.mark.django_db


def test_health_reports_the_database_and_the_cache(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"database": "ok", "cache": "ok"}


def test_the_api_docs_page_serves_swagger_ui_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn.jsdelivr.net" not in page
