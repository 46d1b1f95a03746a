"""The door page: for members who check tickets in, today's screenings of their cinemas only, the
one whose doors are open chosen, and the WebAssembly QR reader allowed on this page alone."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.screenings.models import ScreeningStatus
from ticketing.staff import roles
from ticketing.staff.door import screening_now, todays_screenings

pytestmark = pytest.mark.django_db


def config_of(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="door-config" type="application/json">') + len(
        '<script id="door-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def at(cinema, hours: float, minutes: int = 0):
    """A time today in `cinema`'s zone."""
    today = timezone.localdate(timezone.now(), cinema.tz)
    midnight = timezone.make_aware(
        timezone.datetime.combine(today, timezone.datetime.min.time()), cinema.tz
    )
    return midnight + timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def cinema():
    return factories.cinema(time_zone="UTC")


def test_box_office_opens_the_door_and_a_role_without_check_in_may_not(client, cinema):
    signed_in(client, staff_user(roles.BOX_OFFICE, cinema))
    assert client.get("/staff/door/").status_code == 200
    signed_in(client, staff_user(roles.PARTNER_MANAGER, cinema))
    assert client.get("/staff/door/").status_code == 403


def test_the_door_wants_both_factors(client, cinema):
    client.force_login(staff_user(roles.BOX_OFFICE, cinema))
    response = client.get("/staff/door/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_the_door_lists_todays_screenings_of_the_members_cinemas_only(client, cinema):
    other = factories.cinema(time_zone="UTC")
    room, other_room = factories.auditorium(cinema), factories.auditorium(other)
    now = timezone.now()
    today = factories.screening(room, starts_in=timedelta(minutes=1))
    factories.screening(room, starts_in=timedelta(days=2))
    factories.screening(other_room, starts_in=timedelta(minutes=1))
    cancelled = factories.screening(factories.auditorium(cinema), starts_in=timedelta(minutes=1))
    cancelled.status = ScreeningStatus.CANCELLED
    cancelled.save()
    user = staff_user(roles.BOX_OFFICE, cinema)
    if timezone.localdate(now + timedelta(minutes=1), cinema.tz) != timezone.localdate(
        now, cinema.tz
    ):
        pytest.skip("a minute before midnight: 'today' is about to change")
    listed = config_of(signed_in(client, user).get("/staff/door/"))["screenings"]
    assert [s["id"] for s in listed] == [today.pk]
    assert listed[0]["film"] == today.film.title and listed[0]["time_zone"] == "UTC"


def test_the_screening_checked_in_now_is_the_next_or_one_just_started():
    class S:
        def __init__(self, minutes):
            self.starts_at = now + timedelta(minutes=minutes)

    now = timezone.now()
    started_long_ago, just_started, later = S(-90), S(-10), S(60)
    assert screening_now([started_long_ago, just_started, later], now=now) is just_started
    assert screening_now([started_long_ago, later], now=now) is later
    assert screening_now([started_long_ago], now=now) is started_long_ago
    assert screening_now([], now=now) is None


def test_today_is_each_cinemas_own_day():
    tokyo = factories.cinema(time_zone="Asia/Tokyo")
    room = factories.auditorium(tokyo)
    local_noon = at(tokyo, 12)
    shown = factories.screening(room, starts_in=local_noon - timezone.now())
    user = staff_user(roles.BOX_OFFICE, tokyo)
    assert [s.pk for s in todays_screenings(user)] == [shown.pk]


def test_a_screening_asked_for_is_chosen_when_it_is_today_at_the_members_cinema(client, cinema):
    room = factories.auditorium(cinema)
    first = factories.screening(room, starts_in=at(cinema, 23, 50) - timezone.now())
    user = signed_in(client, staff_user(roles.BOX_OFFICE, cinema))
    assert config_of(user.get(f"/staff/door/?screening={first.pk}"))["screening"] == first.pk
    assert config_of(user.get("/staff/door/?screening=999999"))["screening"] in (first.pk, None)


def test_webassembly_is_allowed_on_the_door_page_only(client, cinema):
    signed_in(client, staff_user(roles.BOX_OFFICE, cinema))
    door = client.get("/staff/door/")["Content-Security-Policy"]
    home = client.get("/staff/")["Content-Security-Policy"]
    assert "'wasm-unsafe-eval'" in door and "'wasm-unsafe-eval'" not in home
    assert "'unsafe-inline'" not in door and "'unsafe-eval'" not in door.replace("wasm-unsafe", "")


def test_the_qr_reader_loads_its_webassembly_from_our_static_files(client, cinema):
    signed_in(client, staff_user(roles.BOX_OFFICE, cinema))
    config = config_of(client.get("/staff/door/"))
    assert config["wasm"].startswith("/static/") and config["wasm"].endswith(".wasm")
    assert config["ponyfill"].startswith("/static/vendor/barcode-detector/")


def test_the_service_worker_is_served_for_the_door_scope(client):
    response = client.get("/staff/door/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/staff/door/"
    assert b"/api/" in response.content  # it leaves the API alone


def test_a_scanner_device_opens_a_door_shell_holding_no_data(client, cinema):
    factories.screening(factories.auditorium(cinema), starts_in=timedelta(minutes=5))
    response = client.get("/staff/door/device/")  # nobody signed in: the key is in the device
    assert response.status_code == 200
    config = config_of(response)
    assert config["device"] is True and config["screenings"] == [] and config["user"] == ""
    assert "'wasm-unsafe-eval'" in response["Content-Security-Policy"]
    assert b"Use a scanner key" in response.content


def test_a_late_show_after_midnight_is_at_the_door_once_its_doors_open(cinema):
    room = factories.auditorium(cinema)
    user = staff_user(roles.BOX_OFFICE, cinema)
    late = factories.screening(room, starts_in=at(cinema, 24, 15) - timezone.now())
    before_midnight = at(cinema, 23, 30)
    assert [s.pk for s in todays_screenings(user, now=before_midnight)] == [late.pk]
    assert todays_screenings(user, now=at(cinema, 20)) == []
