"""`/api/v1/checkins/`: the door. A scanner's key (scope `checkin`, bound to one cinema) or a
staff member signed in with the `staff.checkin_tickets` permission (session and CSRF, as the
door page sends) scans tickets, reads the public keys and a screening's ticket list to work
offline, and sends the scans it made offline when the network returns.

The views parse and answer; `ticketing.checkin.services` decides every scan.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from ticketing import errors, ticket_signing
from ticketing.checkin import selectors
from ticketing.checkin.services import Door, Outcome, ScanRequest, checkin_scan, checkin_sync
from ticketing.partners.models import Scope
from ticketing.ratelimit import FixedWindowThrottle
from ticketing.staff import access

from .common import ERROR, refusals
from .errors import domain_status, error_body

MAX_ID = 2**31 - 1
NONCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DOOR_PERMISSION = "staff.checkin_tickets"


# ---- who may scan ------------------------------------------------------------------------------
class DoorCaller(BasePermission):
    """A scanner's key with the `checkin` scope, or a staff member signed in (both factors) who
    may check tickets in. A partner's key without the scope is 403 `scope_required`."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise NotAuthenticated("Send 'Authorization: Bearer <scanner key>' or sign in.")
        api_key = getattr(user, "api_key", None)
        if api_key is not None:
            if Scope.CHECKIN not in api_key.scopes:
                raise errors.ScopeRequired(
                    "This API key lacks the 'checkin' scope: door scanners have their own keys "
                    "(python manage.py create_scanner CINEMA).",
                    scope=str(Scope.CHECKIN),
                )
            return True
        if not access.is_signed_in(user):
            raise PermissionDenied("Sign in to the staff pages (with your second factor) first.")
        if not user.has_perm(DOOR_PERMISSION):
            raise PermissionDenied("Your role does not check tickets in.")
        return True


def door_of(request) -> Door:
    api_key = getattr(request.user, "api_key", None)
    if api_key is not None:
        return Door(cinema_ids=frozenset({api_key.cinema_id}), device=api_key)
    return Door(cinema_ids=access.cinema_ids_for(request.user), user=request.user)


def default_door_name(request) -> str:
    api_key = getattr(request.user, "api_key", None)
    return api_key.name if api_key is not None else request.user.get_username()


# ---- schema pieces -----------------------------------------------------------------------------
class ScanInput(serializers.Serializer):
    code = serializers.CharField(
        max_length=ticket_signing.MAX_TEXT,
        help_text="The QR code's text (`MQ2:...`, or an older ticket's `MQT:...`), or the "
        "ticket code typed.",
    )
    screening = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="The screening this door is checking: a ticket for another is refused.",
    )
    door = serializers.CharField(
        max_length=60, required=False, allow_blank=True, help_text="Default: the scanner's name."
    )
    nonce = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        help_text="The device's id for this scan (a UUID): sent again, it gets the first answer "
        "and counts once.",
    )
    scanned_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the device scanned it."
    )

    def validate_nonce(self, value):
        if value is not None and not NONCE.match(value):
            raise serializers.ValidationError("A nonce is letters, digits, '-' and '_'.")
        return value


class SyncScanInput(ScanInput):
    nonce = serializers.CharField(max_length=64)
    scanned_at = serializers.DateTimeField()


class SyncInput(serializers.Serializer):
    scans = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        help_text="The scans made offline, each as POST /api/v1/checkins/ takes it, with "
        "`nonce` and `scanned_at`.",
    )

    def validate_scans(self, value):
        limit = settings.MARQUEE_CHECKIN["SYNC_MAX_SCANS"]
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} scans at once.")
        return value


TICKET = inline_serializer(
    "CheckinTicket",
    {
        "seat": serializers.CharField(),
        "type": serializers.CharField(),
        "screening": serializers.IntegerField(),
        "film": serializers.CharField(),
        "starts_at": serializers.DateTimeField(),
    },
)
ADMITTED = inline_serializer(
    "CheckinAdmitted",
    {
        "result": serializers.ChoiceField(choices=["admitted"]),
        "admitted_at": serializers.DateTimeField(),
        "door": serializers.CharField(),
        "ticket": TICKET,
    },
)


def _optional(serializer):
    """Another instance of the same (inline) serializer, not required: one component."""
    return type(serializer)(required=False)


SCAN_REFUSALS = (
    errors.InvalidRequest(
        "scanned_at is later than now: check the device's clock.", field="scanned_at"
    ),
    errors.ScanNonceReused(nonce="0b9f6c1e-5d3a-4f0e-9a61-2c7d8e9f0a1b"),
    errors.TicketUnknown(),
    errors.AlreadyCheckedIn(
        "Already admitted at Door 1.", admitted_at="2026-12-02T19:42:07+00:00", door="Door 1"
    ),
    errors.TicketOtherScreening(
        screening={
            "id": 42,
            "film": "Mission: Impossible - Rogue Nation",
            "starts_at": "2026-12-02T21:00:00+00:00",
            "auditorium": "Screen 2",
        },
        checking=41,
    ),
    errors.TicketRefunded(),
    errors.TicketCancelled(reason="order_cancelled"),
    errors.CheckinNotOpen(doors_open_at="2026-12-02T19:00:00+00:00"),
    errors.TicketCodeInvalid(reason="bad signature"),
)


def scan_refusals() -> dict:
    """The refusals of a scan, the 422s described as the door's reasons (the schema's default
    for 422 speaks of Idempotency-Key, which the door does not use)."""
    documented = refusals(*SCAN_REFUSALS)
    refused = documented[422]
    codes = ", ".join(f"`{example.name}`" for example in refused.examples)
    documented[422] = OpenApiResponse(
        ERROR,
        description=f"The ticket must not go in, for this reason: {codes}",
        examples=refused.examples,
    )
    return documented


def _answer(outcome: Outcome) -> tuple[int, dict]:
    if outcome.error is None:
        return status.HTTP_200_OK, outcome.admission
    error = outcome.error
    return domain_status(error), error_body(error.code, error.message, error.details)


def _scan(request, data: dict) -> ScanRequest:
    return ScanRequest(
        code=data["code"],
        screening_id=data.get("screening"),
        door=(data.get("door") or default_door_name(request))[:60],
        nonce=data.get("nonce"),
        scanned_at=data.get("scanned_at"),
    )


class DoorView(APIView):
    permission_classes = [DoorCaller]


# ---- the endpoints -----------------------------------------------------------------------------
@extend_schema(tags=["check-in"])
class CheckinCreate(DoorView):
    @extend_schema(
        request=ScanInput,
        responses={200: ADMITTED, **scan_refusals()},
        description="Admit a ticket at the door: 200 `admitted` once, whatever the number of "
        "scanners; a second scan is 409 `already_checked_in` with when and where. A ticket of "
        "another cinema than the scanner's is `ticket_unknown`.",
    )
    def post(self, request):
        data = ScanInput(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = checkin_scan(door=door_of(request), scan=_scan(request, data.validated_data))
        code, body = _answer(outcome)
        return Response(body, status=code)


SYNC_RESULT = inline_serializer(
    "CheckinSyncResult",
    {
        "nonce": serializers.CharField(),
        "status": serializers.IntegerField(help_text="The status POST /checkins/ would answer."),
        "result": _optional(ADMITTED),
        "error": _optional(ERROR.fields["error"]),
    },
)


class SyncRateThrottle(FixedWindowThrottle, SimpleRateThrottle):
    """Syncs per door (scanner key or staff member), besides the door's rate of requests: one
    sync of SYNC_MAX_SCANS scans is that many scans decided (seconds of database work), so a
    leaked scanner key repeating it at the scanner's 600 requests a minute would hold every
    worker. MARQUEE_CHECKIN["SYNC_RATE"]; a device drains a long queue in batches
    (static/marquee/door.js)."""

    scope = "checkin_sync"

    def get_rate(self):
        return settings.MARQUEE_CHECKIN.get("SYNC_RATE", "6/min")

    def get_cache_key(self, request, view):
        api_key = getattr(request.user, "api_key", None)
        ident = f"key{api_key.pk}" if api_key is not None else f"user{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


@extend_schema(tags=["check-in"])
class CheckinSync(DoorView):
    throttle_classes = [*api_settings.DEFAULT_THROTTLE_CLASSES, SyncRateThrottle]

    @extend_schema(
        request=SyncInput,
        responses={
            200: inline_serializer("CheckinSync", {"results": SYNC_RESULT}),
            **refusals(errors.InvalidRequest("At most 500 scans at once.", field="scans")),
        },
        description="Scans made offline, sent when the network is back: each decided as "
        "POST /checkins/ would, in the order they were scanned. Two doors that admitted one "
        "ticket offline: the first scan is the admission, the other is recorded as a conflict "
        "for staff. A scan sent again (same nonce) gets its first answer.",
    )
    def post(self, request):
        data = SyncInput(data=request.data)
        data.is_valid(raise_exception=True)
        door = door_of(request)
        scans, results, slots = [], [], []
        for index, raw in enumerate(data.validated_data["scans"]):
            given = SyncScanInput(data=raw)
            if not given.is_valid():
                nonce = raw.get("nonce") if isinstance(raw.get("nonce"), str) else None
                message = "The scan is not valid: " + ", ".join(sorted(given.errors)) + "."
                body = error_body("invalid", message, dict(given.errors))
                results.append({"nonce": nonce, "status": 400, **body})
                continue
            results.append(None)
            slots.append(index)
            scans.append(_scan(request, given.validated_data))
        outcomes = checkin_sync(door=door, scans=scans)
        for index, scan, outcome in zip(slots, scans, outcomes, strict=True):
            code, body = _answer(outcome)
            item = {"nonce": scan.nonce, "status": code}
            item.update({"result": body} if outcome.error is None else body)
            results[index] = item
        return Response({"results": results})


@extend_schema(tags=["check-in"])
class CheckinKeys(DoorView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "CheckinKeys",
                {
                    "keys": inline_serializer(
                        "CheckinKey",
                        {
                            "kid": serializers.CharField(),
                            "alg": serializers.ChoiceField(choices=["Ed25519"]),
                            "public_key": serializers.CharField(
                                help_text="base64url (no padding) of the raw 32-byte key."
                            ),
                        },
                        many=True,
                    )
                },
            )
        },
        description="The public keys that verify tickets' QR codes (`MQ2:<kid>.<body>.<sig>`, "
        "an Ed25519 signature over `<kid>.<body>`), so a door can check them offline. Keys "
        "rotate: keep every key listed here.",
    )
    def get(self, request):
        return Response({"keys": ticket_signing.public_keys()})


SCREENING = {
    "id": serializers.IntegerField(),
    "film": serializers.CharField(),
    "starts_at": serializers.DateTimeField(),
    "auditorium": serializers.CharField(),
}


class DayFilter(serializers.Serializer):
    date = serializers.DateField(required=False)

    def validate_date(self, value):
        if not 1900 <= value.year <= 2999:
            raise serializers.ValidationError("The date is out of range.")
        return value


@extend_schema(tags=["check-in"])
class CheckinScreenings(DoorView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="A day in the cinema's own time zone; default: its today.",
            )
        ],
        responses={
            200: inline_serializer(
                "CheckinScreenings",
                {
                    "results": inline_serializer(
                        "CheckinScreening",
                        {**SCREENING, "cinema": serializers.CharField()},
                        many=True,
                    )
                },
            )
        },
        description="The day's screenings at the door's cinema(s), by start.",
    )
    def get(self, request):
        data = DayFilter(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = selectors.door_screenings(door_of(request), day=data.validated_data.get("date"))
        return Response(
            {
                "results": [
                    {
                        "id": s.pk,
                        "film": s.film.title,
                        "starts_at": s.starts_at.isoformat(),
                        "auditorium": s.auditorium.name,
                        "cinema": s.auditorium.cinema.name,
                    }
                    for s in found
                ]
            }
        )


@extend_schema(tags=["check-in"])
class CheckinScreeningTickets(DoorView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "CheckinTicketList",
                {
                    "screening": inline_serializer(
                        "CheckinListScreening",
                        {**SCREENING, "doors_open_at": serializers.DateTimeField()},
                    ),
                    "generated_at": serializers.DateTimeField(),
                    "tickets": inline_serializer(
                        "CheckinListTicket",
                        {
                            "t": serializers.CharField(help_text="The ticket code."),
                            "seat": serializers.CharField(),
                            "type": serializers.CharField(),
                            "status": serializers.ChoiceField(
                                choices=["valid", "refunded", "cancelled"]
                            ),
                            "admitted_at": serializers.DateTimeField(allow_null=True),
                            "door": serializers.CharField(),
                        },
                        many=True,
                    ),
                },
            ),
            **refusals(errors.ScreeningNotFound(screening=42)),
        },
        description="Every ticket of a screening, for a door to cache: what it needs to admit "
        "signed tickets offline. Refunded and cancelled tickets are listed as such "
        "(revocations); `admitted_at` and `door` say who is in already.",
    )
    def get(self, request, pk: int):
        screening = selectors.door_screening(door_of(request), screening_id=pk)
        if screening is None:
            raise errors.ScreeningNotFound(screening=pk)
        generated_at = timezone.now()
        return Response(
            {
                "screening": {
                    "id": screening.pk,
                    "film": screening.film.title,
                    "starts_at": screening.starts_at.isoformat(),
                    "auditorium": screening.auditorium.name,
                    "doors_open_at": selectors.doors_open(screening).isoformat(),
                },
                "generated_at": generated_at.isoformat(),
                "tickets": selectors.screening_tickets(screening),
            }
        )


class ConflictFilter(serializers.Serializer):
    screening = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


@extend_schema(tags=["check-in"])
class CheckinConflicts(DoorView):
    @extend_schema(
        parameters=[OpenApiParameter("screening", OpenApiTypes.INT, description="Only this one.")],
        responses={
            200: inline_serializer(
                "CheckinConflicts",
                {
                    "results": inline_serializer(
                        "CheckinConflict",
                        {
                            "ticket": serializers.CharField(help_text="The ticket code."),
                            "seat": serializers.CharField(),
                            "screening": serializers.IntegerField(),
                            "film": serializers.CharField(),
                            "starts_at": serializers.DateTimeField(),
                            "admitted_at": serializers.DateTimeField(),
                            "admitted_door": serializers.CharField(),
                            "other_door": serializers.CharField(),
                            "other_scanned_at": serializers.DateTimeField(),
                            "recorded_at": serializers.DateTimeField(),
                        },
                        many=True,
                    )
                },
            )
        },
        description="Tickets let in at two doors while they were offline, newest first (the "
        "last 200), at the door's cinema(s).",
    )
    def get(self, request):
        data = ConflictFilter(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = selectors.conflicts_for(
            door_of(request), screening_id=data.validated_data.get("screening")
        )[:200]
        return Response(
            {
                "results": [
                    {
                        "ticket": c.ticket.code,
                        "seat": c.ticket.seat_label,
                        "screening": c.screening_id,
                        "film": c.screening.film.title,
                        "starts_at": c.screening.starts_at.isoformat(),
                        "admitted_at": c.admission.admitted_at.isoformat(),
                        "admitted_door": c.admission.door,
                        "other_door": c.door,
                        "other_scanned_at": c.scanned_at.isoformat(),
                        "recorded_at": c.created_at.isoformat(),
                    }
                    for c in found
                ]
            }
        )
