"""`load_demo` outside development (issue 9, hole 4): refused with DEBUG off unless forced, and
never a superuser with the published demo password."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from ticketing.flows import demo
from ticketing.screenings.models import Cinema

pytestmark = pytest.mark.django_db


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def test_with_debug_off_it_refuses_and_loads_nothing(production):
    with pytest.raises(CommandError, match="--force"):
        load()
    assert not Cinema.objects.exists()
    assert not get_user_model().objects.exists()


def test_forced_the_staff_superuser_gets_a_generated_password_shown_once(production, client):
    first = load("--force")

    assert demo.STAFF_PASSWORD not in first
    password = re.search(rf"user {demo.STAFF_USERNAME}, password (\S+) \(generated", first)[1]
    staff = get_user_model().objects.get(username=demo.STAFF_USERNAME)
    assert staff.is_superuser and not staff.check_password(demo.STAFF_PASSWORD)
    assert client.login(username=demo.STAFF_USERNAME, password=password)
    assert Cinema.objects.exists()

    again = load("--force")
    assert password not in again and "password was kept" in again
    assert client.login(username=demo.STAFF_USERNAME, password=password)


def test_forced_a_staff_user_left_with_the_demo_password_gets_a_generated_one(production):
    get_user_model().objects.create_superuser(
        demo.STAFF_USERNAME, "staff@marquee.local", demo.STAFF_PASSWORD
    )

    output = load("--force")

    staff = get_user_model().objects.get(username=demo.STAFF_USERNAME)
    assert not staff.check_password(demo.STAFF_PASSWORD)
    assert "(generated, shown once)" in output


def test_forced_a_staff_user_with_its_own_password_is_left_alone(production):
    get_user_model().objects.create_user(demo.STAFF_USERNAME, password="something-else-entirely")

    output = load("--force")

    assert (
        get_user_model()
        .objects.get(username=demo.STAFF_USERNAME)
        .check_password("something-else-entirely")
    )
    assert "password was kept" in output
