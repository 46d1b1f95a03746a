"""`Idempotency-Key` on partner POSTs: a retried request gets the first answer, not a new booking.

The key is scoped to the partner. The first request inserts a record (the unique constraint
picks one winner among racing retries), runs, and stores its answer; a repeat with the same body
replays it, a repeat while the first is still running gets 409, and the same key with another
body gets 422. Server errors are not stored, so a retry after one runs again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from ticketing.db import is_retryable

from .errors import error_body, exception_handler
from .models import IdempotencyRecord

ABANDONED_AFTER = timedelta(seconds=60)
RETRIES = 3
MAX_KEY_LENGTH = 255


def idempotent(view_method):
    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        partner = getattr(request.user, "partner", None)
        if not key or partner is None:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return Response(
                error_body(
                    "invalid_idempotency_key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH}."
                ),
                status=400,
            )
        digest = hashlib.sha256(
            request.method.encode() + request.path.encode() + b"\n" + request.body
        ).hexdigest()
        for attempt in range(1, RETRIES + 1):
            try:
                return _run_once(view_method, self, request, args, kwargs, partner, key, digest)
            except OperationalError as exc:
                if attempt == RETRIES or not is_retryable(exc):
                    raise
        raise AssertionError("unreachable")

    return wrapper


def _run_once(view_method, view, request, args, kwargs, partner, key: str, digest: str):
    """Claim the key, run the view and store its answer in one transaction: a crash rolls the
    record back with the work, and a concurrent duplicate waits on the key's unique index, then
    replays the stored answer."""
    with transaction.atomic():
        record, replay = _claim(partner, key, request, digest)
        if replay is not None:
            return replay
        try:
            response = view_method(view, request, *args, **kwargs)
        except OperationalError:
            raise
        except Exception as exc:
            response = exception_handler(exc, {"view": view, "request": request})
            if response is None:
                raise
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        body = (
            json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code, response_body=body
        )
        return response


def _claim(partner, key: str, request, digest: str):
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    partner=partner,
                    key=key,
                    method=request.method,
                    path=request.path[:255],
                    request_hash=digest,
                )
            return record, None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(partner=partner, key=key).first()
            if existing is None:
                continue  # the other request failed and let go of the key: try again
        if existing.request_hash != digest:
            return None, Response(
                error_body(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for a different request.",
                    {"key": key},
                ),
                status=422,
            )
        if existing.status_code is None:
            if timezone.now() - existing.created_at > ABANDONED_AFTER:
                IdempotencyRecord.objects.filter(pk=existing.pk, status_code__isnull=True).delete()
                continue
            return None, Response(
                error_body(
                    "idempotency_in_flight", "A request with this Idempotency-Key is still running."
                ),
                status=409,
            )
        response = Response(existing.response_body, status=existing.status_code)
        response["Idempotent-Replayed"] = "true"
        return None, response
    return None, Response(
        error_body(
            "idempotency_in_flight", "A request with this Idempotency-Key is still running."
        ),
        status=409,
    )


def purge_expired_records() -> int:
    """Forget keys older than MARQUEE_IDEMPOTENCY_KEY_HOURS; a later reuse is a new request."""
    from django.conf import settings

    cutoff = timezone.now() - timedelta(hours=settings.MARQUEE["IDEMPOTENCY_KEY_HOURS"])
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
