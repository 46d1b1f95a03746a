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
