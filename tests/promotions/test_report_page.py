"""The campaign report page for staff (issue 10): each chart beside a table with the same
figures (what a screen reader reads), the chart library served from static/ as locked in
package-lock.json, staff only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.promotions.report_support import campaign_world, sold

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(screening):
    return campaign_world(screening)


def page_path(made) -> str:
    return f"/staff/campaigns/{made.pk}/report/"


def test_the_staff_page_shows_each_chart_with_its_table(world, admin_client):
    sold(world["paris"], "A1", "A2")
    sold(world["lyon"], "A1")

    answer = admin_client.get(page_path(world["campaign"]))

    assert answer.status_code == 200
    page = answer.content.decode()
    for key in ("day", "film", "cinema", "city"):
        assert f'<div id="chart-{key}" class="chart" aria-hidden="true"></div>' in page
        assert f'<table class="report-table" id="{key}-table">' in page
    assert "<caption>By city</caption>" in page
    assert '<th scope="row">Lyon</th><td>1</td>' in page
    assert "/static/vendor/uplot/uPlot.iife.min.js" in page
    assert "/static/marquee/campaign-report.js" in page
    charts = json.loads(
        re.search(r'<script id="report-charts" type="application/json">(.*?)</script>', page, re.S)[
            1
        ]
    )
    assert {c["id"]: c["series"][0]["values"] for c in charts}["chart-city"] == [2, 1]
    assert (
        admin_client.get(page_path(world["campaign"]) + "?format=csv")["Content-Type"] == "text/csv"
    )


def test_the_staff_page_is_for_staff_only(world, client, django_user_model, admin_client):
    assert client.get(page_path(world["campaign"])).status_code == 302  # to the sign-in
    django_user_model.objects.create_user("buyer", password="pw-for-the-test")
    client.login(username="buyer", password="pw-for-the-test")
    assert client.get(page_path(world["campaign"])).status_code == 302
    assert admin_client.get("/staff/campaigns/999999/report/").status_code == 404


def test_the_vendored_chart_library_is_the_locked_one():
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/uplot"]["version"]
    vendored = (ROOT / "static/vendor/uplot/uPlot.iife.min.js").read_text()[:200]
    assert f"(v{version})" in vendored
    assert (ROOT / "static/vendor/uplot/uPlot.min.css").exists()
