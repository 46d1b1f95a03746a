"""Writing campaigns, and finding the ones a partner may see: the only code that writes a
campaign's own fields (its `spent` counter moves in `redemptions.py`, by conditional statements).

Staff (the admin) and partners (the API) go through the same two services. A campaign is
updated under a row lock and its `spent` is never written from here: a budget is lowered only
to what has already been given or more, even while codes are being redeemed (the redemption's
`UPDATE ... WHERE spent + d <= budget` waits for the lock and re-checks against the new budget).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q, QuerySet

from ticketing import errors
from ticketing.partners.models import Partner, PartnerKind

from .models import Campaign, Funder, Redemption

# What `campaign_update` may change; `spent` is the redemptions' counter.
EDITABLE = (
    "name",
    "studio",
    "platform",
    "starts_at",
    "ends_at",
    "currency",
    "budget",
    "funder",
    "presale_opens_at",
    "banner_title",
    "banner_text",
    "banner_image",
    "banner_approved",
    "banner_link",
)


def campaigns_of(*, partner: Partner) -> QuerySet[Campaign]:
    """The campaigns a partner takes part in, as their studio or their platform."""
    return Campaign.objects.filter(Q(studio=partner) | Q(platform=partner))


def campaign_get(*, campaign_id, partner: Partner | None = None) -> Campaign:
    """One campaign; for a partner only one of its own (another's answers as if it did not
    exist)."""
    found = campaigns_of(partner=partner) if partner is not None else Campaign.objects.all()
    campaign = found.filter(pk=campaign_id).first()
    if campaign is None:
        raise errors.CampaignNotFound(campaign=campaign_id)
    return campaign


def _check_partners(studio: Partner | None, platform: Partner | None) -> None:
    if studio is None or studio.kind != PartnerKind.STUDIO or not studio.is_active:
        raise errors.CampaignPartnerInvalid(
            "A campaign's studio is an active film studio partner.", field="studio"
        )
    if platform is not None and (platform.kind != PartnerKind.PLATFORM or not platform.is_active):
        raise errors.CampaignPartnerInvalid(
            "A campaign's platform is an active ticketing platform partner.", field="platform"
        )


def campaign_check(campaign: Campaign, *, partners: bool = True) -> None:
    """What a campaign must be, checked before it is written (the admin's form asks too, to
    show the refusal beside the field). Its partners are checked when it is made or they
    change: a partner deactivated later leaves its campaigns editable (to end them, say)."""
    if partners:
        _check_partners(
            campaign.studio if campaign.studio_id else None,
            campaign.platform if campaign.platform_id else None,
        )
    if campaign.funder == Funder.PLATFORM and campaign.platform_id is None:
        raise errors.CampaignPartnerInvalid(
            "A campaign funded by its platform needs a platform.", field="funder"
        )
    if campaign.ends_at <= campaign.starts_at:
        raise errors.CampaignDatesInvalid(
            starts_at=campaign.starts_at.isoformat(), ends_at=campaign.ends_at.isoformat()
        )
    if campaign.presale_opens_at is not None and campaign.presale_opens_at >= campaign.ends_at:
        raise errors.CampaignDatesInvalid(
            "A presale opens before the campaign ends.", field="presale_opens_at"
        )
    if len(campaign.currency or "") != 3 or not campaign.currency.isalpha():
        raise errors.InvalidRequest("A currency is a 3-letter ISO code.", field="currency")
    if campaign.budget < campaign.spent:
        raise errors.CampaignBudgetBelowSpent(budget=campaign.budget, spent=campaign.spent)


@transaction.atomic
def campaign_create(*, films=(), **fields) -> Campaign:
    """A new campaign with its films. Keywords are `EDITABLE` fields; `studio`, `name`,
    `starts_at`, `ends_at` and `budget` are needed."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"campaign_create() got unexpected fields {sorted(unknown)}")
    campaign = Campaign(**fields)
    campaign.currency = (campaign.currency or "").upper()
    campaign_check(campaign)
    campaign.save()
    campaign.films.set(films)
    return campaign


@transaction.atomic
def campaign_update(*, campaign_id, films=None, **changes) -> Campaign:
    """Change a campaign's fields (and films, when given), locked against concurrent changes
    and redemptions. The budget never goes below what was already given, and the currency
    stays once a code was used."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"campaign_update() got unexpected fields {sorted(unknown)}")
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise errors.CampaignNotFound(campaign=campaign_id)
    if "currency" in changes:
        changes["currency"] = (changes["currency"] or "").upper()
        if (
            changes["currency"] != campaign.currency
            and Redemption.objects.filter(campaign=campaign).exists()
        ):
            raise errors.CampaignCurrencyLocked(campaign=campaign.pk, currency=campaign.currency)
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign_check(campaign, partners="studio" in changes or "platform" in changes)
    if changes:
        campaign.save(update_fields=list(changes))
    if films is not None:
        campaign.films.set(films)
    return campaign
