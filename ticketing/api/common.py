"""What every endpoint module of the API shares: the schema's error component and
`Idempotency-Key` parameter, and who is acting on a request.

Public so that the API's other modules (`payments/api.py`, and the promotions, staff and
waiting-room endpoints to come) describe errors and retries, and name their caller, the same way.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from ticketing import buyers

ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Send the same key when retrying; the first answer is replayed, "
    "nothing is booked twice.",
)


def owner(request) -> dict:
    """Who is acting, as the owner keywords the hold and order services take: a partner, or
    the buyer of a signed-in browser session."""
    partner = getattr(request.user, "partner", None)
    if partner is not None:
        return {"partner": partner}
    return {"buyer_key": buyers.browser_key(request)}


def actor(request) -> str:
    """The actor recorded in an order's history: `partner:ID` or `user:ID`."""
    partner = getattr(request.user, "partner", None)
    if partner is not None:
        return f"partner:{partner.pk}"
    return f"user:{request.user.pk}"
