"""The services staff and partners write campaigns and codes with (promotions/campaigns.py,
promotions/codes.py): what they refuse before the database would, and a budget lowered while
codes are being redeemed never ends below what was given."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from promotions.campaigns import campaign_create, campaign_update
from promotions.codes import code_create, code_update, codes_generate
from promotions.models import Campaign, PromoCode
from tests.concurrency import run_many, unexpected
from tests.promotions.support import campaign, code, place
from ticketing import errors
from ticketing.partners.models import PartnerKind
from ticketing.partners.services import partner_create


@pytest.mark.django_db
def test_a_percent_past_100_is_refused_as_such_not_as_a_taken_code(screening):
    made = campaign(screening)
    with pytest.raises(errors.InvalidRequest) as refused:
        code_create(campaign=made, code="HALF", kind="percent", value=150)
    assert refused.value.code == "invalid"
    assert refused.value.details == {"field": "value"}
    with pytest.raises(errors.PromoCodeTaken):
        code_create(campaign=made, code="TAKEN", kind="percent", value=10)
        code_create(campaign=made, code="ta-ken", kind="percent", value=10)


@pytest.mark.django_db
def test_generating_codes_with_impossible_terms_is_refused_at_once_not_drawn_forever(screening):
    made = campaign(screening)
    with pytest.raises(errors.InvalidRequest):
        codes_generate(campaign=made, count=3, kind="percent", value=101)
    with pytest.raises(errors.InvalidRequest):
        codes_generate(campaign=made, count=3, prefix="P" * 33, kind="percent", value=10)
    assert not PromoCode.objects.exists()


@pytest.mark.django_db
def test_a_thousand_targeted_codes_are_written_in_a_few_statements(
    screening, django_assert_max_num_queries
):
    made = campaign(screening)
    with django_assert_max_num_queries(12):
        codes_generate(
            campaign=made,
            count=1000,
            kind="amount",
            value=200,
            films=[screening.film_id],
            cinemas=[screening.auditorium.cinema_id],
        )
    assert PromoCode.films.through.objects.count() == 1000
    assert PromoCode.cinemas.through.objects.count() == 1000


@pytest.mark.django_db
def test_a_codes_max_uses_never_goes_below_its_uses(screening):
    made = code(screening, "MI5", max_uses=5)
    place(screening, "A1", promo="MI5")
    place(screening, "A2", promo="MI5", email="c@example.com", buyer="other")
    with pytest.raises(errors.InvalidRequest):
        code_update(code_id=made.pk, max_uses=1)
    updated = code_update(code_id=made.pk, max_uses=2, value=10, films=[])
    assert (updated.max_uses, updated.uses, updated.value) == (2, 2, 10)


@pytest.mark.django_db
def test_a_campaign_needs_a_studio_dates_in_order_and_a_platform_that_is_one(screening):
    studio, _ = partner_create(name="Studio", kind=PartnerKind.STUDIO)
    platform, _ = partner_create(name="Platform", kind=PartnerKind.PLATFORM)
    now = timezone.now()
    dates = {"starts_at": now, "ends_at": now + timedelta(days=2)}
    with pytest.raises(errors.CampaignPartnerInvalid):
        campaign_create(name="x", studio=platform, budget=1, **dates)
    with pytest.raises(errors.CampaignPartnerInvalid):
        campaign_create(name="x", studio=studio, platform=studio, budget=1, **dates)
    with pytest.raises(errors.CampaignPartnerInvalid):  # funded by a platform it does not have
        campaign_create(name="x", studio=studio, funder="platform", budget=1, **dates)
    with pytest.raises(errors.CampaignDatesInvalid):
        campaign_create(name="x", studio=studio, budget=1, starts_at=now, ends_at=now)
    made = campaign_create(
        name="x", studio=studio, platform=platform, budget=1, films=[screening.film], **dates
    )
    assert list(made.films.all()) == [screening.film]


@pytest.mark.django_db(transaction=True)
def test_a_budget_lowered_while_buyers_redeem_never_ends_below_what_was_given(screening):
    code(screening, "MI5", value=50, campaign_kw={"budget": 10_000})  # 6.00 a ticket
    made = Campaign.objects.get()
    seats = ["A1", "A2", "A3", "A4", "A5", "A6", "A7"]

    def act(i: int):
        if i == 0:
            return campaign_update(campaign_id=made.pk, budget=1800)
        return place(screening, seats[i], promo="MI5", email=f"{i}@x.io")

    outcomes = run_many(7, act)

    assert unexpected(outcomes, errors.PromoBudgetSpent, errors.CampaignBudgetBelowSpent) == []
    after = Campaign.objects.get()
    assert after.spent <= after.budget
    assert after.budget in (1800, 10_000)  # lowered, or refused because more was given already
