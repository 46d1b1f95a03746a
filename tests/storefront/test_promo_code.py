"""A promo code at the storefront's checkout (issue 10): applied, it shows the discount on each
ticket and in the total before paying; placed, the order is priced with it on the server and
charged that; refused, the form comes back with a message a buyer understands, in their
language, and nothing is made. The confirmation page and email show the discount per ticket.
A running campaign's banner is on the home page and on its films' pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Payment
from promotions.models import Campaign, PromoCode, Redemption
from tests import factories
from tests.promotions.support import campaign, code, place
from tests.storefront.support import held_by, html
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.orders import emails
from ticketing.orders.models import Order
from ticketing.orders.services import order_mark_paid
from ticketing.orders.tickets import order_token

pytestmark = pytest.mark.django_db


def details(hold: Hold, **fields) -> dict:
    """The checkout form filled in: adult tickets, a name and an email."""
    adult = hold.screening.auditorium.cinema.ticket_types.get(code="adult").pk
    data = {f"type_{seat}": str(adult) for seat in hold.seat_ids}
    data.update({"name": "Ada Lovelace", "email": "ada@example.com", **fields})
    return data


def cell(page: str, attribute: str) -> str:
    found = re.search(rf"<td class=\"num\" {attribute}>([^<]*)</td>", page)
    assert found, f"no {attribute} cell"
    return found.group(1)


def promo_error(page: str) -> str:
    found = re.search(r'<p class="field-error" id="promo-error" role="alert">([^<]*)</p>', page)
    assert found, "no promo error"
    return found.group(1)


# ---- applying and placing --------------------------------------------------------------------
def test_applying_a_code_shows_its_discount_on_each_ticket_and_in_the_total(client, screening):
    code(screening, "MI5", value=25)
    hold = held_by(client, screening, "A1", "A2")

    response = client.post(
        f"/checkout/{hold.pk}/", details(hold, promo_code="mi5", apply_promo="1", name="")
    )

    assert response.status_code == 200
    page = html(response)
    assert page.count("Discount on seat") == 2
    assert page.count("\u2212€3.00") == 2  # 25% of each 12.00 ticket
    assert "Discount (MI5)" in page and "\u2212€6.00" in page
    assert cell(page, "data-total") == "€20.00"  # 24.00 + 2.00 fee - 6.00
    assert "Promo code MI5 applied: €6.00 off." in page
    assert 'value="mi5"' in page
    assert "This field is required." not in page  # only the code was being tried
    assert not Order.objects.exists()
    assert PromoCode.objects.get().uses == 0


def test_the_order_is_placed_with_the_code_and_charged_the_discounted_total(client, screening):
    code(screening, "MI5", value=25)
    hold = held_by(client, screening, "A1", "A2")

    response = client.post(f"/checkout/{hold.pk}/", details(hold, promo_code=" mi-5 "))

    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.promo_code, order.discount, order.total) == ("MI5", 600, 2000)
    assert Payment.objects.get().amount == 2000
    assert sorted(t.discount for t in order.tickets.all()) == [300, 300]
    redemption = Redemption.objects.get()
    assert (redemption.order, redemption.partner, redemption.discount) == (order, None, 600)
    assert Campaign.objects.get().spent == 600


def test_apply_with_no_code_typed_goes_on_to_payment(client, screening):
    hold = held_by(client, screening, "A1")

    response = client.post(f"/checkout/{hold.pk}/", details(hold, promo_code="", apply_promo="1"))

    assert response.status_code == 302
    assert Order.objects.get().discount == 0


@pytest.mark.parametrize(
    ("terms", "typed", "message"),
    [
        ({}, "NOPE", "We do not know this promo code. Check how it is spelt and try again."),
        (
            {"valid_until": timezone.now() - timedelta(minutes=1)},
            "MI5",
            "This promo code cannot be used at the moment: it has ended or not started.",
        ),
        ({"max_uses": 0}, "MI5", "This promo code has been used as many times as it can be."),
        (
            {"ticket_types": ["child"]},
            "MI5",
            "This promo code does not apply to these tickets or this showing.",
        ),
        ({"min_tickets": 3}, "MI5", "This promo code needs at least 3 tickets in the order."),
        (
            {"campaign_kw": {"budget": 100}},
            "MI5",
            "This promotion has given all its discounts. It has now ended.",
        ),
    ],
)
def test_a_refused_code_brings_the_form_back_with_a_plain_message_and_makes_nothing(
    client, screening, terms, typed, message
):
    code(screening, "MI5", value=25, **terms)
    hold = held_by(client, screening, "A1", "A2")

    response = client.post(f"/checkout/{hold.pk}/", details(hold, promo_code=typed))

    assert response.status_code == 400
    page = html(response)
    assert promo_error(page) == message
    assert 'aria-invalid="true" aria-describedby="promo-error"' in page
    assert 'value="Ada Lovelace"' in page  # what was typed stays
    assert not Order.objects.exists()
    assert Hold.objects.get(pk=hold.pk).status == HoldStatus.ACTIVE
    assert Campaign.objects.get().spent == 0


def test_a_code_one_email_has_used_up_says_so(client, screening):
    code(screening, "MI5", max_uses_per_email=1)
    place(screening, "B1", promo="MI5", email="ada@example.com")
    hold = held_by(client, screening, "A1")

    page = html(client.post(f"/checkout/{hold.pk}/", details(hold, promo_code="MI5")))

    assert promo_error(page) == (
        "You have already used this promo code as many times as one person may."
    )


def test_a_code_refused_on_apply_says_why_before_anything_is_placed(client, screening):
    code(screening, "MI5", ticket_types=["child"])
    hold = held_by(client, screening, "A1")

    response = client.post(
        f"/checkout/{hold.pk}/", details(hold, promo_code="MI5", apply_promo="1")
    )

    assert response.status_code == 400
    assert "does not apply" in promo_error(html(response))
    assert cell(html(response), "data-total") == "€13.00"  # no discount shown


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Nous ne connaissons pas ce code promo."),
        ("zh-hans", "我们找不到这个优惠码"),
    ],
)
def test_the_refusal_is_in_the_buyers_language(client, screening, language, message):
    client.cookies["django_language"] = language
    campaign(screening)
    hold = held_by(client, screening, "A1")

    page = html(client.post(f"/checkout/{hold.pk}/", details(hold, promo_code="NOPE")))

    assert message in promo_error(page)


def test_every_promo_refusal_has_its_words_in_french_and_chinese():
    from django.utils import translation

    from ticketing.storefront.messages import PLAIN

    promo = {k: v for k, v in PLAIN.items() if k.startswith("promo_")}
    assert {
        "promo_unknown",
        "promo_expired",
        "promo_exhausted",
        "promo_not_applicable",
        "promo_budget_spent",
    } <= set(promo)
    for language in ("fr", "zh-hans"):
        with translation.override("en"):
            english = {k: str(v) for k, v in promo.items()}
        with translation.override(language):
            for key, text in promo.items():
                assert str(text) != english[key], (language, key)


# ---- after the order -------------------------------------------------------------------------
def paid_with_code(screening) -> Order:
    code(screening, "MI5", value=25)
    order = place(screening, "A1", "A2", promo="MI5")
    order_mark_paid(order_id=order.pk, actor="test")
    return Order.objects.get(pk=order.pk)


def test_the_confirmation_page_shows_the_discount_per_ticket_and_in_the_total(client, screening):
    order = paid_with_code(screening)

    page = html(client.get(f"/checkout/done/{order_token(order)}/"))

    assert "Discount (MI5)" in page
    assert "Discount on seat A1" in page and "Discount on seat A2" in page
    assert page.count("\u2212€3.00") == 2
    assert "\u2212€6.00" in page and "€20.00" in page


def test_the_confirmation_email_shows_each_tickets_discount(screening):
    order = paid_with_code(screening)

    message = emails.confirmation_message(order)

    assert message.body.count("€3.00 off") == 2
    assert "Discount (MI5): -€6.00" in message.body
    html_part = message.alternatives[0][0]
    assert html_part.count("€3.00 off") == 2


# ---- the banner ------------------------------------------------------------------------------
def banner_campaign(screening, **kw) -> Campaign:
    made = campaign(screening, **kw)
    Campaign.objects.filter(pk=made.pk).update(
        banner_title="Mission: Impossible - Rogue Nation",
        banner_text="Half price on opening weekend.",
    )
    return made


def test_a_running_campaigns_banner_is_on_the_home_page_and_links_to_its_film(client, screening):
    banner_campaign(screening)

    page = html(client.get("/"))

    assert '<section class="campaign"' in page
    assert "Mission: Impossible - Rogue Nation" in page
    assert "Half price on opening weekend." in page
    assert f'href="/films/{screening.film.slug}/"' in page


def test_the_banner_is_on_its_films_page_and_not_on_another_films(client, screening):
    banner_campaign(screening)
    other = factories.film()

    own = html(client.get(f"/films/{screening.film.slug}/"))
    elsewhere = html(client.get(f"/films/{other.slug}/"))

    assert "Mission: Impossible - Rogue Nation" in own
    assert 'href="#showtimes"' in own
    assert '<section class="campaign"' not in elsewhere


def test_a_campaign_that_ended_or_has_no_banner_shows_nothing(client, screening):
    ended = banner_campaign(screening)
    Campaign.objects.filter(pk=ended.pk).update(
        starts_at=timezone.now() - timedelta(days=9), ends_at=timezone.now() - timedelta(days=1)
    )
    campaign(screening)  # running, without a banner

    assert '<section class="campaign"' not in html(client.get("/"))
    assert '<section class="campaign"' not in html(client.get(f"/films/{screening.film.slug}/"))


def test_the_banner_shows_its_uploaded_image_and_its_own_link(
    client, screening, settings, tmp_path
):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    made = banner_campaign(screening)
    made.banner_image.save("mi5.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    Campaign.objects.filter(pk=made.pk).update(
        banner_image=made.banner_image.name, banner_link="https://example.com/mi5"
    )

    page = html(client.get("/"))

    assert f'<img src="/media/{made.banner_image.name}" alt="">' in page
    assert 'href="https://example.com/mi5"' in page
    assert client.get(f"/media/{made.banner_image.name}").status_code == 200
