"""Who may buy before general sale: a campaign's presale opens its films' screenings early for
holders of its presale codes (on the storefront, the code typed once opens the presale for that
browser) and for its platform's (and studio's) API keys.

The answer is an opening time (or None) that the hold service compares with the clock, the one
rule of "is this screening on sale for this buyer" (`Screening.is_on_sale(opens_at=...)`).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from ticketing import errors
from ticketing.screenings.models import Screening

from . import offers
from .models import Campaign


def _presales_for(screening: Screening, now: datetime):
    return Campaign.objects.filter(
        films=screening.film_id,
        presale_opens_at__isnull=False,
        starts_at__lte=now,
        ends_at__gt=now,
        currency=screening.auditorium.cinema.currency,
    )


def presale_opening(*, screening: Screening, partner=None, promo_code: str = "") -> datetime | None:
    """The earliest presale opening this buyer has for the screening, or None (general sale).
    A code that does not open a presale here is refused (`promo_not_applicable`, ...), so the
    buyer learns why at once rather than at checkout."""
    now = timezone.now()
    openings = []
    if partner is not None:
        mine = _presales_for(screening, now).filter(Q(platform=partner) | Q(studio=partner))
        openings += [c.presale_opens_at for c in mine]
    if promo_code:
        code = offers.code_find(promo_code)
        offers.check_valid_now(code, now)
        offers.check_not_exhausted(code)
        if not code.opens_presale or code.campaign.presale_opens_at is None:
            raise errors.PromoNotApplicable(promo_code=code.code, reason="no_presale")
        offers.check_applies_to(code, screening)
        openings.append(code.campaign.presale_opens_at)
    return min(openings) if openings else None
