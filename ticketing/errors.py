"""Typed domain errors. Each carries a stable machine code; the API maps them to HTTP in one
place (`ticketing.api.errors`)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    message = "The request could not be completed."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.message
        self.details = details
        super().__init__(self.message)


class InvalidRequest(DomainError):
    code = "invalid"
    message = "The request is not valid."


class NotFound(DomainError):
    code = "not_found"
    message = "Not found."


class ScreeningNotFound(NotFound):
    code = "screening_not_found"
    message = "No such screening."


class HoldNotFound(NotFound):
    code = "hold_not_found"
    message = "No such hold."


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No such order."


class UnknownSeats(InvalidRequest):
    code = "unknown_seats"
    message = "Some seats do not exist in this screening's auditorium."


class DuplicateSeats(InvalidRequest):
    code = "duplicate_seats"
    message = "A seat was asked for more than once."


class TooManySeats(InvalidRequest):
    code = "too_many_seats"
    message = "Too many seats for one order."


class SeatsBlocked(InvalidRequest):
    code = "seat_blocked"
    message = "Some seats are not for sale."


class ScreeningNotOnSale(DomainError):
    code = "screening_not_on_sale"
    message = "This screening is not on sale."


class SeatUnavailable(DomainError):
    code = "seat_unavailable"
    message = "Some seats are already taken."


class ScreeningChanged(DomainError):
    """A claim for a seat outside the screening's auditorium as it is now: staff moved the
    screening while the seats were being chosen (the database refused it)."""

    code = "screening_changed"
    message = "The screening was moved while these seats were being held; choose seats again."


class NoSeatsTogether(DomainError):
    code = "no_seats_together"
    message = "Not enough seats left together for this party."


class HoldExpired(DomainError):
    code = "hold_expired"
    message = "The hold has expired or was released; its seats are back on sale."


class HoldNotActive(DomainError):
    code = "hold_not_active"
    message = "The hold was released or already turned into an order."


class TicketsMismatch(InvalidRequest):
    code = "tickets_mismatch"
    message = "Tickets must name each held seat exactly once."


class UnknownTicketType(InvalidRequest):
    code = "unknown_ticket_type"
    message = "Unknown ticket type for this screening."


class OrderStateConflict(DomainError):
    code = "order_state_conflict"
    message = "The order cannot change that way from its current status."


class SeatsLost(DomainError):
    """Payment arrived after the hold died and the seats were sold to someone else."""

    code = "seats_lost"
    message = "The seats of this order were taken after its hold expired."


class PromoCodesUnavailable(InvalidRequest):
    code = "promo_code_invalid"
    message = "This promo code is not valid."


class ConfirmationResendLimit(DomainError):
    """Staff resent an order's confirmation as often as an hour allows (`details.limit`)."""

    code = "confirmation_resend_limit"
    message = "The confirmation was resent too often in the last hour; try again later."


# ---- payments --------------------------------------------------------------------------------
class UnknownProvider(InvalidRequest):
    code = "unknown_provider"
    message = "No such payment provider is enabled."


class ProviderNotAllowed(UnknownProvider):
    """On a production site the sandbox pays only when it is the site's own provider."""

    code = "provider_not_allowed"
    message = "This payment provider cannot be chosen here; use the site's configured provider."


class ProviderNotFound(NotFound):
    """A webhook for a provider that is not enabled here."""

    code = "unknown_provider"
    message = "No such payment provider."


class WebhookInvalid(InvalidRequest):
    """A webhook refused before it changed anything; `code` is the provider's reason
    (signature_invalid, signature_expired, malformed_body, ...)."""

    code = "webhook_rejected"
    message = "The webhook was rejected."

    def __init__(self, message: str | None = None, *, code: str | None = None, **details) -> None:
        super().__init__(message, **details)
        if code:
            self.code = code


class UnknownPayment(InvalidRequest):
    code = "unknown_payment"
    message = "The event names a payment this site does not know."


class AmountMismatch(InvalidRequest):
    code = "amount_mismatch"
    message = "The event's amount or currency is not the payment's; it was not accepted."


class PaymentNotAllowed(DomainError):
    code = "payment_not_allowed"
    message = "This order cannot be paid now."


class RefundNotAllowed(DomainError):
    code = "refund_not_allowed"
    message = "This order cannot be refunded here."


class RefundTooLarge(InvalidRequest):
    code = "refund_too_large"
    message = "The refund is larger than what was paid and not yet refunded."


class TicketAlreadyRefunded(DomainError):
    code = "ticket_already_refunded"
    message = "Some tickets were already refunded."


class CancellationClosed(DomainError):
    code = "cancellation_closed"
    message = "It is too close to the screening to cancel this order."


class RefundRefused(DomainError):
    code = "refund_refused"
    message = "The payment provider refused the refund; nothing was changed."


class HoldLimitReached(DomainError):
    code = "hold_limit_reached"
    message = (
        "You are already holding as many seats for this screening as one buyer may: buy or "
        "release them first."
    )


class OnsaleLimitReached(DomainError):
    """The onsale's per-buyer ticket limit, across its screenings (`ticketing.onsale.limits`):
    `details` give the limit, how many are left, what was asked and by which identity (`per`:
    waiter, account or email)."""

    code = "onsale_limit_reached"
    message = "This sale allows only a few tickets per buyer, and this would go past it."

    def __init__(self, message: str | None = None, **details) -> None:
        if message is None and "limit" in details and "left" in details:
            message = (
                f"This sale allows {details['limit']} tickets per buyer; "
                f"{details['left']} left for you."
            )
        super().__init__(message, **details)


class OnsaleLimitLost(SeatsLost):
    """A late payment for an expired order whose buyer has since reached the onsale's limit:
    refunded, as a late payment whose seats were sold is."""

    code = "onsale_limit_lost"
    message = "This order would go past the sale's per-buyer limit; the payment is refunded."


# ---- the catalogue ---------------------------------------------------------------------------
class ScreeningOverlap(DomainError):
    """The exclusion constraint refused a screening that overlaps another in its auditorium."""

    code = "screening_overlap"
    message = (
        "Another screening in this auditorium overlaps this time (it was scheduled a moment "
        "ago). Pick another time or auditorium."
    )


class AuditoriumLocked(DomainError):
    code = "auditorium_locked"
    message = (
        "Seats of this screening are held or sold: its auditorium cannot change. Cancel the "
        "screening and schedule a new one instead."
    )


# Planning screenings (ticketing/screenings/scheduling.py): `details` says what and where.
class ScheduleInvalid(InvalidRequest):
    code = "schedule_invalid"
    message = "This schedule cannot be planned as given (`details.field` names what)."


class SchedulePatternEmpty(ScheduleInvalid):
    code = "schedule_pattern_empty"
    message = "The pattern makes no screening: choose days of the week and start times."


class ScheduleTimeNonexistent(ScheduleInvalid):
    code = "schedule_time_nonexistent"
    message = "That start time does not exist on that day in the cinema's time zone."


class ScheduleInPast(ScheduleInvalid):
    code = "schedule_in_past"
    message = "That time has passed; plan from the cinema's today on."


class ScheduleConflict(DomainError):
    """Planned screenings that overlap others (`details.refused`, each with its clashes)."""

    code = "schedule_conflict"
    message = "Some planned screenings clash with others; nothing was saved."


class ScreeningNotMovable(DomainError):
    code = "screening_not_movable"
    message = "Seats of this screening are held or sold: it cannot move."


class TicketCheckedIn(DomainError):
    """A ticket used at the door is not given back: its holder saw (or is seeing) the film."""

    code = "ticket_checked_in"
    message = "Some tickets were already used at the door; they cannot be refunded."


class ReturnUrlNotAllowed(InvalidRequest):
    code = "return_url_not_allowed"
    message = "return_url must be on this site or on a host listed in MARQUEE_PAYMENT_RETURN_HOSTS."


class ScreeningHasPaidOrders(DomainError):
    code = "screening_has_paid_orders"
    message = (
        "This screening has paid orders: cancelling it would leave their buyers with tickets "
        "and no refund. Refund those orders first."
    )


class PromoRefused(InvalidRequest):
    """A promo code that cannot be used here; each reason has its own code."""

    code = "promo_refused"
    message = "This promo code cannot be used."


class PromoUnknown(PromoRefused):
    code = "promo_unknown"
    message = "There is no such promo code."


class PromoExpired(PromoRefused):
    code = "promo_expired"
    message = "This promo code is not valid at this time."


class PromoExhausted(PromoRefused):
    code = "promo_exhausted"
    message = "This promo code has been used as many times as it may be."


class PromoNotApplicable(PromoRefused):
    code = "promo_not_applicable"
    message = "This promo code does not apply to these tickets."


class PromoBudgetSpent(PromoRefused):
    code = "promo_budget_spent"
    message = "This promotion has given all the discount it can."


class PromoLost(SeatsLost):
    """A late payment for an order whose promo code has no use (or budget) left any more: it is
    refunded, as a late payment whose seats were sold is."""

    code = "promo_lost"
    message = "The promo code of this order has no use left; the payment is refunded."


# ---- partners --------------------------------------------------------------------------------
class ScopeRequired(DomainError):
    """A partner key (or a browser session) without a scope the endpoint needs; `details.scope`
    names it, so a partner knows which scope to ask for."""

    code = "scope_required"
    message = "This API key lacks a scope this needs."


# ---- campaigns and their codes (promotions/campaigns.py, promotions/codes.py) ----------------
class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    message = "No such campaign."


class CampaignPartnerInvalid(InvalidRequest):
    code = "campaign_partner_invalid"
    message = "A campaign's studio is a film studio partner and its platform a ticketing platform."


class CampaignDatesInvalid(InvalidRequest):
    code = "campaign_dates_invalid"
    message = "A campaign ends after it starts."


class CampaignBudgetBelowSpent(InvalidRequest):
    code = "campaign_budget_below_spent"
    message = "The budget cannot go below the discount the campaign has already given."


class CampaignBudgetFunderOnly(InvalidRequest):
    code = "campaign_budget_funder_only"
    message = "Only the partner that funds this campaign's discounts may change its budget."


class CampaignCurrencyLocked(InvalidRequest):
    code = "campaign_currency_locked"
    message = "Codes of this campaign were used: its currency cannot change any more."


class PromoCodeTaken(InvalidRequest):
    code = "promo_code_taken"
    message = "That promo code exists already."


# ---- partner webhooks (ticketing/webhooks) ---------------------------------------------------
class WebhookEndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"
    message = "No such webhook endpoint."


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"
    message = "No such webhook delivery."


class WebhookUrlNotAllowed(InvalidRequest):
    code = "webhook_url_not_allowed"
    message = "Webhooks cannot be sent to this URL."


class WebhookEventUnknown(InvalidRequest):
    code = "webhook_event_unknown"
    message = "Subscribe to one or more of the known event types (`details.known`)."


class WebhookConflict(DomainError):
    """A webhook action that cannot happen in the endpoint's or delivery's present state."""

    code = "webhook_conflict"
    message = "This cannot be done to the webhook now."


class WebhookEndpointDisabled(WebhookConflict):
    code = "webhook_endpoint_disabled"
    message = (
        "This endpoint is turned off (`details.reason`): nothing is sent to it. Create a new "
        "endpoint, or ask staff to turn it back on."
    )


class WebhookDeliveryInFlight(WebhookConflict):
    code = "webhook_delivery_in_flight"
    message = "This delivery is being sent right now; look again in a few seconds."


# ---- reports (promotions/reports.py, promotions/report_api.py) -------------------------------
class ReportDateInvalid(InvalidRequest):
    code = "report_date_invalid"
    message = "A report's dates are days written YYYY-MM-DD (`details.field` names which)."


class ReportPeriodInvalid(InvalidRequest):
    code = "report_period_invalid"
    message = "A report's period runs from `from` to `to` included, `details.max_days` at most."


class ReportGroupInvalid(InvalidRequest):
    code = "report_group_by_invalid"
    message = "Group a sales report by day, film or screening (`details.allowed`)."


class CampaignPresaleStaffOnly(InvalidRequest):
    code = "campaign_presale_staff_only"
    message = (
        "A presale is opened by the cinema's staff: ask them to set the campaign's presale opening."
    )


# ---- door check-in (ticketing/checkin, POST /api/v1/checkins/) -------------------------------
class TicketUnknown(NotFound):
    """No ticket has this code, or not at this door's cinema (a scanner sees its cinema alone)."""

    code = "ticket_unknown"
    message = "There is no such ticket."


class AlreadyCheckedIn(DomainError):
    """`details`: when (`admitted_at`) and where (`door`) the ticket was admitted."""

    code = "already_checked_in"
    message = "This ticket was already admitted."


class TicketRefused(DomainError):
    """A ticket the door must not let in; each reason has its own code (422)."""

    code = "ticket_refused"
    message = "This ticket cannot be admitted."


class TicketOtherScreening(TicketRefused):
    """`details.screening`: the screening the ticket is for (id, film, starts_at)."""

    code = "ticket_other_screening"
    message = "This ticket is for another screening."


class TicketRefunded(TicketRefused):
    code = "ticket_refunded"
    message = "This ticket was refunded: it is no longer valid."


class TicketCancelled(TicketRefused):
    code = "ticket_cancelled"
    message = "This ticket's order or screening was cancelled: it is not valid."


class CheckinNotOpen(TicketRefused):
    """`details.doors_open_at`: when the screening's doors open."""

    code = "checkin_not_open"
    message = "The doors of this screening are not open yet."


class TicketCodeInvalid(TicketRefused):
    """Malformed, altered, forged, or signed with a key this site does not know."""

    code = "ticket_code_invalid"
    message = "This is not a valid ticket code."


class ScanNonceReused(InvalidRequest):
    code = "nonce_reused"
    message = "This nonce was already sent with another scan; send a new one for each scan."
