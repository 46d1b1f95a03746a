"""What every endpoint module of the API shares: the schema's error component, the refusals an
operation documents and the `Idempotency-Key` parameter, and who is acting on a request.

Public so that the API's other modules (`payments/api.py`, and the promotions, staff and
waiting-room endpoints to come) describe errors and retries, and name their caller, the same way.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import exceptions, serializers

from ticketing import buyers, errors

from .errors import domain_status, drf_error_body, error_body


class ErrorCodeField(serializers.CharField):
    """`error.code`: described in the schema as the enum of every code the API answers
    (`schema.py`, from `errors.error_codes()`)."""


ERROR = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": ErrorCodeField(),
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


def refused_answer(
    refusal: errors.DomainError | exceptions.APIException,
) -> tuple[int, dict]:
    """The status and body the API answers for `refusal`, as `errors.exception_handler` does."""
    if isinstance(refusal, errors.DomainError):
        return domain_status(refusal), error_body(refusal.code, refusal.message, refusal.details)
    return refusal.status_code, drf_error_body(refusal)


def refusals(*refused: errors.DomainError | exceptions.APIException) -> dict:
    """The refusals particular to one operation, for `extend_schema(responses=...)`:

        responses={201: s.HoldOutput, **refusals(errors.SeatUnavailable(seats=[1032]), ...)}

    One Error response per status, an example of each refusal built from the error itself, so
    the example is what the API answers. The statuses every operation of its kind can answer
    (400 invalid, 401, 403, 404 on ids and pages, 429, ...) are added by `schema.AutoSchema`."""
    by_status: dict[int, list[OpenApiExample]] = {}
    for refusal in refused:
        status_code, body = refused_answer(refusal)
        by_status.setdefault(status_code, []).append(
            OpenApiExample(body["error"]["code"], value=body, status_codes=[str(status_code)])
        )
    return {code: OpenApiResponse(ERROR, examples=examples) for code, examples in by_status.items()}


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
