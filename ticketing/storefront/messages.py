"""What the buyer is told when a step cannot be done: domain error codes in plain words, in the
buyer's language. The services' own messages are for partners and logs."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ticketing import errors

PLAIN = {
    "seat_unavailable": _(
        "Sorry, someone else has just taken a seat you chose. Please pick again."
    ),
    "no_seats_together": _(
        "There are not that many seats together any more. Try fewer seats or pick them on the map."
    ),
    "too_many_seats": _("You can book at most %(limit)s seats at a time."),
    "seat_blocked": _("One of those seats is not for sale."),
    "unknown_seats": _("One of those seats is not in this auditorium."),
    "duplicate_seats": _("A seat was chosen twice."),
    "invalid": _("Choose at least one seat, or how many seats you want."),
    "screening_not_on_sale": _("Tickets for this screening are not on sale."),
    "hold_expired": _("Your seats were held for a limited time, and that time is up."),
    "hold_not_found": _("We could not find those held seats. Please choose your seats again."),
    "unknown_ticket_type": _("Choose a ticket type for each seat."),
    "payment_not_allowed": _("This order can no longer be paid."),
    "unknown_provider": _("Payments are unavailable right now. Please try again shortly."),
    "hold_limit_reached": _(
        "Too many seats of this screening are already held from your connection. Buy or release "
        "the seats you hold, or try again in a few minutes."
    ),
    "promo_unknown": _("We do not know this promo code. Check how it is spelt and try again."),
    "promo_expired": _(
        "This promo code cannot be used at the moment: it has ended or not started."
    ),
    "promo_exhausted": _("This promo code has been used as many times as it can be."),
    "promo_exhausted_email": _(
        "You have already used this promo code as many times as one person may."
    ),
    "promo_not_applicable": _("This promo code does not apply to these tickets or this showing."),
    "promo_budget_spent": _("This promotion has given all its discounts. It has now ended."),
    "promo_no_presale": _("This code does not open a presale."),
    "screening_changed": _(
        "The cinema has just moved this screening to another room. Please choose your seats again."
    ),
    "onsale_limit_reached": _(
        "This sale allows only a few tickets per buyer, and this would go past it."
    ),
    "onsale_limit_lost": _(
        "This order would go past the sale's limit of tickets per buyer, so your payment is "
        "being refunded."
    ),
}


def explain(exc: errors.DomainError) -> str:
    text = PLAIN.get(exc.code)
    if text is None:
        return str(exc.message)
    if exc.code == "too_many_seats":
        return str(text) % {"limit": exc.details.get("limit", "")}
    if exc.code == "promo_exhausted" and exc.details.get("per") == "email":
        return str(PLAIN["promo_exhausted_email"])
    if exc.code == "promo_not_applicable" and exc.details.get("reason") == "no_presale":
        return str(PLAIN["promo_no_presale"])
    if exc.code == "onsale_limit_reached" and "limit" in exc.details and "left" in exc.details:
        return onsale_limit(exc.details["limit"], exc.details["left"])
    n = exc.details.get("min_tickets") or 1
    if exc.code == "promo_not_applicable" and exc.details.get("reason") == "min_tickets" and n > 1:
        return ngettext(
            "This promo code needs at least %(n)s ticket in the order.",
            "This promo code needs at least %(n)s tickets in the order.",
            n,
        ) % {"n": n}
    return str(text)


def onsale_limit(limit: int, left: int) -> str:
    """The onsale's per-buyer limit, with what is left to this buyer."""
    allowed = ngettext(
        "This sale allows %(limit)s ticket per buyer.",
        "This sale allows %(limit)s tickets per buyer.",
        limit,
    ) % {"limit": limit}
    if left <= 0:
        more = str(_("You have already bought or held as many as you may."))
    else:
        more = ngettext("You may add %(left)s more.", "You may add %(left)s more.", left) % {
            "left": left
        }
    # Two sentences, joined as the language joins them (no space in Chinese).
    return str(_("%(first)s %(second)s")) % {"first": allowed, "second": more}


def seats_taken(labels: list[str]) -> str:
    return ngettext(
        "Sorry, seat %(seats)s has just been taken by someone else. Please choose another.",
        "Sorry, seats %(seats)s have just been taken by someone else. Please choose others.",
        len(labels),
    ) % {"seats": ", ".join(labels)}
