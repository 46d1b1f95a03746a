"""What a promo code takes off an order, ticket by ticket, or why it cannot be used.

Pure reading: nothing here counts a use. The counters move in `redemptions.py`, in the order's
own transaction, by conditional statements.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from ticketing import errors
from ticketing.orders.pricing import LineDiscount, Quote
from ticketing.screenings.models import Screening

from . import codes
from .models import Campaign, DiscountKind, PromoCode


@dataclass(frozen=True)
class Offer:
    code: PromoCode
    discounts: list[LineDiscount]

    @property
    def total(self) -> int:
        return sum(d.amount for d in self.discounts)


def code_find(raw: str) -> PromoCode:
    """The code as typed (any case, spaces and dashes ignored), with its campaign."""
    normalised = codes.normalise(raw)
    code = (
        PromoCode.objects.select_related("campaign").filter(code=normalised).first()
        if normalised
        else None
    )
    if code is None:
        raise errors.PromoUnknown(promo_code=raw)
    return code


def check_valid_now(code: PromoCode, now=None) -> None:
    now = now or timezone.now()
    campaign: Campaign = code.campaign
    if not campaign.is_running(now):
        raise errors.PromoExpired(promo_code=code.code)
    if (code.valid_from and now < code.valid_from) or (
        code.valid_until and now >= code.valid_until
    ):
        raise errors.PromoExpired(promo_code=code.code)


def check_not_exhausted(code: PromoCode) -> None:
    """A code with no use left opens nothing (a presale included), even before any order."""
    if code.max_uses is not None and code.uses >= code.max_uses:
        raise errors.PromoExhausted(promo_code=code.code)


def check_applies_to(code: PromoCode, screening: Screening) -> None:
    """The code's targeting: films (its own, else its campaign's), cinemas, screenings, weekday
    and time of day of the screening's start in its cinema's zone, and the currency."""
    refuse = errors.PromoNotApplicable
    cinema = screening.auditorium.cinema
    if cinema.currency != code.campaign.currency:
        raise refuse(promo_code=code.code, reason="currency")
    films = {f.pk for f in code.films.all()} or {f.pk for f in code.campaign.films.all()}
    if films and screening.film_id not in films:
        raise refuse(promo_code=code.code, reason="film")
    cinemas = {c.pk for c in code.cinemas.all()}
    if cinemas and cinema.pk not in cinemas:
        raise refuse(promo_code=code.code, reason="cinema")
    screenings = {s.pk for s in code.screenings.all()}
    if screenings and screening.pk not in screenings:
        raise refuse(promo_code=code.code, reason="screening")
    local = timezone.localtime(screening.starts_at, cinema.tz)
    if code.weekdays and local.isoweekday() not in code.weekdays:
        raise refuse(promo_code=code.code, reason="weekday")
    if code.starts_after and local.time() < code.starts_after:
        raise refuse(promo_code=code.code, reason="time_of_day")
    if code.starts_before and local.time() >= code.starts_before:
        raise refuse(promo_code=code.code, reason="time_of_day")


def _line_discount(code: PromoCode, price: int, surcharge: int) -> int:
    if code.kind == DiscountKind.PERCENT:
        return (price + surcharge) * code.value // 100
    if code.kind == DiscountKind.AMOUNT:
        return min(code.value, price + surcharge)
    return max(0, price - code.value)  # a set price for the ticket; surcharges still apply


def offer_for(code: PromoCode, screening: Screening, quote: Quote) -> Offer:
    """Each line's discount: the eligible tickets (by ticket type), the dearest first up to the
    code's `max_tickets`, capped per order; refused below `min_tickets` or if it gives nothing."""
    check_valid_now(code)
    check_applies_to(code, screening)
    eligible = [
        i
        for i, line in enumerate(quote.lines)
        if not code.ticket_types or line.ticket_type.code in code.ticket_types
    ]
    if len(eligible) < code.min_tickets:
        raise errors.PromoNotApplicable(
            promo_code=code.code, reason="min_tickets", min_tickets=code.min_tickets
        )
    eligible.sort(key=lambda i: -quote.lines[i].gross)
    if code.max_tickets is not None:
        eligible = eligible[: code.max_tickets]
    amounts = [0] * len(quote.lines)
    for i in eligible:
        amounts[i] = _line_discount(code, quote.lines[i].price, quote.lines[i].surcharge)
    cap = code.max_discount_per_order
    if cap is not None:
        over = sum(amounts) - cap
        for i in reversed(eligible):  # take the excess off the cheapest discounted tickets
            if over <= 0:
                break
            cut = min(over, amounts[i])
            amounts[i] -= cut
            over -= cut
    if not sum(amounts):
        raise errors.PromoNotApplicable(promo_code=code.code, reason="nothing_off")
    funder = code.campaign.funder
    return Offer(code, [LineDiscount(a, funder if a else "") for a in amounts])
