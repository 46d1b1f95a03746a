"""A presale code on the storefront (issue 10): typed on the seat map page of a screening not
yet on general sale, it opens the campaign's presale for this browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from promotions.codes import code_create
from tests.promotions.support import campaign
from tests.storefront.support import hold_seats, html
from ticketing.inventory.models import Hold
from ticketing.screenings.models import Screening

pytestmark = pytest.mark.django_db


@pytest.fixture
def presale(screening):
    starts = timezone.now() + timedelta(days=3)
    Screening.objects.filter(pk=screening.pk).update(
        sales_open_at=timezone.now() + timedelta(days=1),
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
    )
    made = campaign(screening, presale_opens_at=timezone.now() - timedelta(hours=1))
    code_create(campaign=made, code="FANS-FIRST", kind="percent", value=10, opens_presale=True)
    return made


def test_before_general_sale_the_page_offers_a_presale_code_field(client, screening, presale):
    page = html(client.get(f"/screenings/{screening.pk}/"))
    assert "not on sale yet" in page
    assert 'name="code"' in page
    assert hold_seats(client, screening, "A1").status_code == 409


def test_a_presale_code_lets_this_browser_hold(client, screening, presale):
    url = f"/screenings/{screening.pk}/"
    answer = client.post("/presale/", {"code": "fans first", "next": url})
    assert answer.status_code == 302 and answer["Location"] == url
    assert 'name="code"' not in html(client.get(url))

    assert hold_seats(client, screening, "A1").status_code == 302
    assert Hold.objects.count() == 1


def test_a_wrong_code_is_refused_in_plain_words_and_opens_nothing(client, screening, presale):
    url = f"/screenings/{screening.pk}/"
    client.post("/presale/", {"code": "NOPE", "next": url})
    page = html(client.get(url))
    assert 'name="code"' in page
    assert hold_seats(client, screening, "A1").status_code == 409


def test_the_next_address_never_leaves_the_site(client, screening, presale):
    answer = client.post("/presale/", {"code": "FANSFIRST", "next": "https://evil.example/"})
    assert answer["Location"] == "/"


def test_the_film_page_offers_the_code_and_then_links_the_presale_showtimes(
    client, screening, presale
):
    film_url = f"/films/{screening.film.slug}/"
    link = f'href="/screenings/{screening.pk}/"'
    before = html(client.get(film_url))
    assert 'name="code"' in before and link not in before

    client.post("/presale/", {"code": "FANSFIRST", "next": film_url})

    after = html(client.get(film_url))
    assert link in after and 'name="code"' not in after
