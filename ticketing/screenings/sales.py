"""Whether a screening sells, and stopping it: the row locks that make a cancellation and a
payment see each other.

A cancellation locks the screening row FOR UPDATE. A payment (and anything else that turns
money into tickets) takes FOR KEY SHARE on the same row before it decides, which conflicts with
FOR UPDATE but not with itself or with the claims' foreign key checks, so payments for one
screening never wait on each other. Either the payment goes first and the cancellation then
sees its paid order, or the cancellation goes first and the payment sees `cancelled`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection

from ticketing import errors

from .models import Screening, ScreeningStatus

SALE_FIELDS = ["status", "starts_at", "sales_open_at", "sales_close_at"]


def screening_refresh_for_sale(screening: Screening) -> Screening:
    """Hold the screening against a cancellation until commit and read its sale fields anew."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM screenings_screening WHERE id = %s FOR KEY SHARE", [screening.pk]
            )
    screening.refresh_from_db(fields=SALE_FIELDS)
    return screening


def screening_lock(screening_id) -> Screening:
    """The screening, locked FOR UPDATE for the rest of the transaction, or ScreeningNotFound."""
    try:
        return (
            Screening.objects.select_for_update(of=("self",))
            .select_related("auditorium__cinema", "film")
            .get(pk=screening_id)
        )
    except (Screening.DoesNotExist, ValueError, TypeError, ValidationError):
        raise errors.ScreeningNotFound(screening=screening_id) from None


def screening_mark_cancelled(*, screening: Screening) -> None:
    """Stop sales: every hold, order and payment check reads `cancelled` from now on."""
    Screening.objects.filter(pk=screening.pk).update(status=ScreeningStatus.CANCELLED)
    screening.status = ScreeningStatus.CANCELLED
