"""The one error shape of the API, and the one place domain errors become HTTP statuses.

{"error": {"code": "seat_unavailable", "message": "...", "details": {...}}}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from ticketing import errors

log = logging.getLogger("ticketing.api")

DOMAIN_STATUS: list[tuple[type[errors.DomainError], int]] = [
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.InvalidRequest, status.HTTP_400_BAD_REQUEST),
    (errors.HoldExpired, status.HTTP_410_GONE),
    (errors.SeatUnavailable, status.HTTP_409_CONFLICT),
    (errors.NoSeatsTogether, status.HTTP_409_CONFLICT),
    (errors.ScreeningChanged, status.HTTP_409_CONFLICT),
    (errors.HoldNotActive, status.HTTP_409_CONFLICT),
    (errors.OrderStateConflict, status.HTTP_409_CONFLICT),
    (errors.SeatsLost, status.HTTP_409_CONFLICT),
    (errors.ScreeningNotOnSale, status.HTTP_409_CONFLICT),
    (errors.PaymentNotAllowed, status.HTTP_409_CONFLICT),
    (errors.RefundNotAllowed, status.HTTP_409_CONFLICT),
    (errors.TicketAlreadyRefunded, status.HTTP_409_CONFLICT),
    (errors.CancellationClosed, status.HTTP_409_CONFLICT),
    (errors.RefundRefused, status.HTTP_409_CONFLICT),
    (errors.HoldLimitReached, status.HTTP_409_CONFLICT),
    (errors.OnsaleLimitReached, status.HTTP_409_CONFLICT),
    (errors.TicketCheckedIn, status.HTTP_409_CONFLICT),
    (errors.AlreadyCheckedIn, status.HTTP_409_CONFLICT),
    (errors.TicketRefused, status.HTTP_422_UNPROCESSABLE_ENTITY),
    (errors.WebhookConflict, status.HTTP_409_CONFLICT),
    (errors.ScopeRequired, status.HTTP_403_FORBIDDEN),
    (errors.ConfirmationResendLimit, status.HTTP_429_TOO_MANY_REQUESTS),
]


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def domain_status(exc: errors.DomainError | type[errors.DomainError]) -> int:
    cls = exc if isinstance(exc, type) else type(exc)
    for base, code in DOMAIN_STATUS:
        if issubclass(cls, base):
            return code
    return status.HTTP_400_BAD_REQUEST


# DRF's own refusals, first match wins; any other APIException answers its `default_code`.
DRF_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.ParseError, "malformed_json"),
    (exceptions.ValidationError, "invalid"),
    (exceptions.NotAuthenticated, "unauthenticated"),
    (exceptions.AuthenticationFailed, "unauthenticated"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.Throttled, "throttled"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
]

# Codes answered without a typed error: this module's and idempotency.py's own answers, and the
# payment providers' webhook rejections (payments/signing.py, payments/providers/). A literal
# code missing here fails tests/api/test_schema.py, which reads the source for them.
OTHER_CODES: dict[str, int] = {
    "bad_request": status.HTTP_400_BAD_REQUEST,
    "request_too_large": status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    "internal_error": status.HTTP_500_INTERNAL_SERVER_ERROR,
    "invalid_idempotency_key": status.HTTP_400_BAD_REQUEST,
    "idempotency_in_flight": status.HTTP_409_CONFLICT,
    "idempotency_key_reused": status.HTTP_422_UNPROCESSABLE_ENTITY,
    "signature_missing": status.HTTP_400_BAD_REQUEST,
    "signature_malformed": status.HTTP_400_BAD_REQUEST,
    "signature_invalid": status.HTTP_400_BAD_REQUEST,
    "signature_expired": status.HTTP_400_BAD_REQUEST,
    "malformed": status.HTTP_400_BAD_REQUEST,
}


def _drf_code(exc: exceptions.APIException) -> str:
    for cls, code in DRF_CODES:
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def _domain_errors(base: type[errors.DomainError] = errors.DomainError):
    for cls in base.__subclasses__():
        yield cls
        yield from _domain_errors(cls)


def error_codes() -> dict[str, set[int]]:
    """Every `error.code` the API can answer, with the statuses it comes with: each typed
    domain error (a new one appears here by itself), DRF's refusals and `OTHER_CODES`.
    The schema's `ErrorCode` enum is this (ticketing/api/schema.py)."""
    codes: dict[str, set[int]] = {}
    for cls in _domain_errors():
        codes.setdefault(cls.code, set()).add(domain_status(cls))
    for cls, code in DRF_CODES:
        codes.setdefault(code, set()).add(cls.status_code)
    for code, answered in OTHER_CODES.items():
        codes.setdefault(code, set()).add(answered)
    return codes


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every failure becomes the one error shape."""
    view = context.get("view")
    where = type(view).__name__ if view else "?"
    if isinstance(exc, errors.DomainError):
        code = domain_status(exc)
        log.info("%s refused: %s %s", where, exc.code, exc.details)
        return Response(error_body(exc.code, exc.message, exc.details), status=code)
    if isinstance(exc, RequestDataTooBig):
        # Django refuses to read a body past DATA_UPLOAD_MAX_MEMORY_SIZE; that is the caller's
        # doing, not a server error.
        log.info("%s refused: request_too_large", where)
        return Response(
            error_body("request_too_large", "The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        log.warning("%s refused a suspicious request: %s", where, exc)
        return Response(error_body("bad_request", "The request could not be read."), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: the middleware logs it and answers 500 in the same shape
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if exc.status_code == status.HTTP_401_UNAUTHORIZED and not headers.get("WWW-Authenticate"):
        headers["WWW-Authenticate"] = "Bearer"
    body = drf_error_body(exc)
    log.info("%s refused: %s %s", where, body["error"]["code"], body["error"]["details"])
    return Response(body, status=exc.status_code, headers=headers)


def drf_error_body(exc: exceptions.APIException) -> dict:
    """The error shape of one of DRF's refusals (also the schema's examples of them)."""
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "The request is not valid: " + ", ".join(sorted(details)) + "."
    else:
        details = (
            {"retry_after": int(exc.wait) + 1}
            if isinstance(exc, exceptions.Throttled) and exc.wait
            else {}
        )
        message = str(exc.detail)
    return error_body(_drf_code(exc), message, details)


class ApiErrorMiddleware:
    """Anything unexpected under /api/ still answers in the error shape, and is logged whole."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/"):
            return None
        log.exception("unhandled error on %s %s", request.method, request.path)
        return JsonResponse(
            error_body("internal_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "No such endpoint."), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("bad_request", "The request could not be understood."), status=400
        )
    from django.views.defaults import bad_request as html_bad_request

    return html_bad_request(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(
            error_body("internal_error", "Something went wrong on our side; it has been logged."),
            status=500,
        )
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
