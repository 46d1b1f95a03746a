"""Junk in the staff pages' query strings and paths gets a clear answer, never a 500 (security
review O6): non-ASCII digits, NUL bytes (which PostgreSQL text cannot hold), days at the edge of
the calendar."""

import pytest

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.staff import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    signed_in(client, staff_user(roles.MANAGER, factories.cinema()))
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/staff/dashboard/?cinema=%C2%B2",
        "/staff/audit/?cinema=%C2%B2",
        "/staff/audit/?q=a%00b",
        "/staff/audit/?who=%00",
        "/staff/audit/?action=x%00",
        "/staff/audit/?to=9999-12-31",
        "/staff/audit/?from=0001-01-01",
        "/staff/exports/days/9999-12-31/attendance.csv",
        "/staff/exports/days/0001-01-01/orders.csv",
    ],
)
def test_junk_in_a_staff_page_is_answered_without_a_server_error(manager, path):
    response = manager.get(path)
    assert response.status_code in (200, 400, 404), (path, response.status_code)
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/csv"):
        b"".join(response.streaming_content)  # the rows are read as the file is sent
