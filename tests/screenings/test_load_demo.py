"""`manage.py load_demo`: the demo data, loaded twice without changing anything."""

from __future__ import annotations

import itertools
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from promotions.models import Campaign, PromoCode
from tests.staff.codes import current_code
from ticketing.flows import demo
from ticketing.partners.models import ApiKey, Partner
from ticketing.screenings.models import (
    Auditorium,
    Cinema,
    Film,
    Screening,
    ScreeningPrice,
    Seat,
    SeatTypeSurcharge,
    TicketType,
)
from ticketing.staff import demo as staff_demo

pytestmark = pytest.mark.django_db

MODELS = [
    Cinema,
    Auditorium,
    Seat,
    Film,
    Screening,
    ScreeningPrice,
    TicketType,
    SeatTypeSurcharge,
    Partner,
    ApiKey,
    Campaign,
    PromoCode,
    get_user_model(),
]


def load() -> str:
    """In development, as `make run` loads it (tests/screenings/test_load_demo_safety.py has the
    production rules)."""
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("load_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """The campaign's banner image goes to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def loaded():
    return load()


def test_loading_twice_changes_nothing(loaded):
    first = counts()
    seats_before = set(Seat.objects.values_list("id", "row_label", "number", "pair_id"))

    second = load()

    assert counts() == first
    assert set(Seat.objects.values_list("id", "row_label", "number", "pair_id")) == seats_before
    assert "mq_" in loaded and "mq_" not in second  # partner keys are shown once, when made
    assert ApiKey.objects.filter(partner__name=demo.PLATFORM_PARTNER).count() == 1


def test_prints_the_staff_login_and_the_staff_user_can_sign_in(loaded, client):
    assert "http://127.0.0.1:8000/admin/" in loaded
    assert "staff" in loaded and "marquee-demo" in loaded
    assert staff_demo.DEMO_TOTP_SECRET in loaded  # the demo's published authenticator key
    client.post("/admin/login/", {"username": "staff", "password": "marquee-demo"})
    client.post("/staff/login/code/", {"code": current_code(staff_demo.DEMO_TOTP_KEY)})
    assert client.get("/admin/").status_code == 200


def test_an_existing_staff_user_is_left_alone(db):
    get_user_model().objects.create_user("staff", password="something-else-entirely")

    load()

    user = get_user_model().objects.get(username="staff")
    assert user.check_password("something-else-entirely") and not user.is_superuser


def test_rogue_nation_is_showing(loaded):
    film = Film.objects.get(title="Mission: Impossible - Rogue Nation")
    assert (film.runtime_minutes, film.certificate, film.release_date.year) == (131, "12A", 2015)
    assert len(film.synopsis) > 100
    assert film.screenings.filter(starts_at__gte=timezone.now()).exists()


def test_some_films_are_coming_soon_without_screenings(loaded):
    coming = Film.objects.filter(release_date__gt=timezone.now().date())
    assert coming.exists()
    assert not Screening.objects.filter(film__in=coming).exists()


def test_cinemas_in_several_time_zones_with_prices_in_their_currency(loaded):
    cinemas = list(Cinema.objects.all())
    assert len(cinemas) >= 3
    assert len({c.time_zone for c in cinemas}) >= 2
    assert len({c.currency for c in cinemas}) >= 2
    for cinema in cinemas:
        codes = set(cinema.ticket_types.values_list("code", flat=True))
        assert {"adult", "child", "senior", "student"} <= codes
        assert cinema.surcharges.filter(seat_type="premium").exists()
        assert cinema.booking_fee > 0 and cinema.booking_fee_cap


def test_each_cinema_has_a_large_and_a_small_auditorium(loaded):
    for cinema in Cinema.objects.all():
        sizes = sorted(room.seats.count() for room in cinema.auditoriums.all())
        assert len(sizes) == 2
        assert 60 <= sizes[0] <= 100 and 280 <= sizes[1] <= 340
        large = max(cinema.auditoriums.all(), key=lambda room: room.seats.count())
        types = set(large.seats.values_list("seat_type", flat=True))
        assert {"premium", "wheelchair", "companion", "couple"} <= types
        assert large.seats.filter(is_sellable=False).exists()


def test_screenings_for_each_of_the_next_seven_days_in_each_cinema(loaded):
    for cinema in Cinema.objects.all():
        today = timezone.localtime(timezone.now(), cinema.tz).date()
        days = {
            timezone.localtime(starts, cinema.tz).date()
            for starts in Screening.objects.filter(auditorium__cinema=cinema).values_list(
                "starts_at", flat=True
            )
        }
        assert {today + timedelta(days=n) for n in range(7)} <= days, cinema


def test_screenings_never_overlap_in_an_auditorium(loaded):
    for room in Auditorium.objects.all():
        shows = list(room.screenings.order_by("starts_at").values_list("starts_at", "ends_at"))
        assert len(shows) >= 7 * 4
        for (_, ends), (next_starts, _) in itertools.pairwise(shows):
            assert ends <= next_starts, room


def test_screenings_have_formats_subtitles_and_local_showtimes(loaded):
    formats = set(Screening.objects.values_list("format", flat=True))
    assert {"2D", "3D", "IMAX"} <= formats
    assert Screening.objects.exclude(subtitles="").exists()
    paris = Cinema.objects.get(time_zone="Europe/Paris")
    starts = Screening.objects.filter(auditorium__cinema=paris).values_list("starts_at", flat=True)
    local = {timezone.localtime(s, paris.tz).strftime("%H:%M") for s in starts}
    assert {"13:00", "19:30"} <= local
    # 3D and IMAX screenings cost more than the cinema's list price.
    imax = Screening.objects.filter(format="IMAX").first()
    adult = imax.prices.get(ticket_type__code="adult")
    assert adult.price > adult.ticket_type.price


def test_a_run_on_a_later_day_adds_only_the_missing_day(loaded):
    before = Screening.objects.count()
    tomorrow = timezone.now().date() + timedelta(days=1)

    demo.load(today=tomorrow)

    # Only the one day that was not planned yet in each auditorium (days already planned are
    # skipped whatever "today" each cinema had).
    added = Screening.objects.count() - before
    rooms = Auditorium.objects.count()
    assert 0 < added <= rooms * 5
    demo.load(today=tomorrow)
    assert Screening.objects.count() == before + added


def test_rogue_nation_has_its_studios_campaign_with_the_platform_and_a_banner(loaded):
    campaign = Campaign.objects.get(name=demo.CAMPAIGN_NAME)
    assert (campaign.studio.name, campaign.platform.name) == (
        demo.STUDIO_PARTNER,
        demo.PLATFORM_PARTNER,
    )
    assert campaign.funder == "studio" and campaign.currency == "EUR"
    assert [film.slug for film in campaign.films.all()] == [demo.ROGUE_NATION]
    assert campaign.is_running() and campaign.budget_left == campaign.budget > 0
    assert campaign.banner_title == "Mission: Impossible - Rogue Nation" and campaign.banner_text
    assert campaign.banner_image.name.startswith("campaigns/")
    with campaign.banner_image.open("rb") as image:
        assert image.read(8) == b"\x89PNG\r\n\x1a\n"
    assert campaign.banner_image.size < 50_000


def test_the_campaign_has_single_use_presale_codes_and_a_weekday_matinee_code(loaded):
    campaign = Campaign.objects.get(name=demo.CAMPAIGN_NAME)
    batch = campaign.codes.filter(code__startswith="MI5")
    assert batch.count() == 50
    assert set(batch.values_list("max_uses", "opens_presale", "uses")) == {(1, True, 0)}
    matinee = campaign.codes.get(code="MATINEE")
    assert matinee.kind == "set_price" and matinee.weekdays == [1, 2, 3, 4, 5]
    assert matinee.starts_before.hour == 17 and not matinee.opens_presale


def test_the_opening_weekend_is_on_presale_now_and_on_general_sale_later(loaded):
    campaign = Campaign.objects.get(name=demo.CAMPAIGN_NAME)
    now = timezone.now()
    weekend = Screening.objects.filter(film__slug=demo.ROGUE_NATION, sales_open_at__isnull=False)
    assert weekend.exists()
    paris = Cinema.objects.get(slug="paris-bastille")
    for screening in weekend.select_related("auditorium__cinema"):
        assert screening.auditorium.cinema == paris  # the campaign's currency's cinema
        assert campaign.presale_opens_at <= now < screening.sales_open_at < screening.starts_at
        assert timezone.localtime(screening.starts_at, paris.tz).weekday() in demo.WEEKEND
        assert not screening.is_on_sale(now)
        assert screening.is_on_sale(now, opens_at=campaign.presale_opens_at)
    # Tomorrow's screenings stay on general sale (the storefront's walk-through buys them).
    tomorrow = timezone.localtime(now, paris.tz).date() + timedelta(days=1)
    assert not any(timezone.localtime(s.starts_at, paris.tz).date() <= tomorrow for s in weekend)


def test_the_campaign_is_made_once_and_left_as_staff_changed_it(loaded):
    campaign = Campaign.objects.get(name=demo.CAMPAIGN_NAME)
    Campaign.objects.filter(pk=campaign.pk).update(banner_text="Edited by staff")

    load()
    demo.load(today=timezone.now().date() + timedelta(days=1))

    assert Campaign.objects.filter(name=demo.CAMPAIGN_NAME).get().banner_text == "Edited by staff"
    assert PromoCode.objects.filter(campaign=campaign).count() == 51


def test_the_demo_partners_keys_can_read_reports(loaded):
    studio = Partner.objects.get(name=demo.STUDIO_PARTNER).api_keys.get()
    platform = Partner.objects.get(name=demo.PLATFORM_PARTNER).api_keys.get()
    assert {"campaigns", "reports"} <= set(studio.scopes)
    assert {"book", "settle", "reports"} <= set(platform.scopes)


def test_the_platform_has_seats_set_aside_for_its_presale_until_general_sale(loaded):
    from ticketing.inventory.models import Allocation

    [allocation] = Allocation.objects.select_related("partner", "screening")
    assert allocation.partner.name == demo.PLATFORM_PARTNER
    assert len(allocation.seat_ids) == demo.DEMO_ALLOCATION_SEATS
    assert allocation.release_at == allocation.screening.sales_open_at
    load()
    assert Allocation.objects.count() == 1
