"""The partner REST API: thin views that validate, call a service or selector, and serialise."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ticketing import errors
from ticketing.client_ip import client_address
from ticketing.flows import cancellation, checkout
from ticketing.inventory import holds, seatmap
from ticketing.orders import pricing
from ticketing.orders import services as orders
from ticketing.partners.models import Scope
from ticketing.screenings import selectors as catalogue
from ticketing.screenings.models import Cinema, Film, Screening, Seat

from . import serializers as s
from .common import IDEMPOTENCY, actor, owner, refusals
from .idempotency import idempotent
from .permissions import RequiresScope

# OrderCancel.post, reworked by another part of issue 8, still calls the old private names.
_owner, _actor = owner, actor


# ---- catalogue -------------------------------------------------------------------------------
@extend_schema(
    tags=["catalogue"],
    parameters=[
        OpenApiParameter(
            "status",
            OpenApiTypes.STR,
            enum=["now_showing", "coming_soon"],
            description="Default: both.",
        )
    ],
    responses={
        200: s.FilmOutput(many=True),
        **refusals(errors.InvalidRequest("status is now_showing or coming_soon.", field="status")),
    },
)
class FilmList(generics.ListAPIView):
    """Films now showing and coming soon, by title; what the words mean is decided once, in
    `ticketing.screenings.selectors` (a film previewed before its release is coming soon)."""

    serializer_class = s.FilmOutput

    def get_queryset(self):
        now = timezone.now()
        today = timezone.localdate(now)
        wanted = self.request.query_params.get("status")
        if wanted == "now_showing":
            qs = catalogue.films_now_showing(now=now, today=today)
        elif wanted == "coming_soon":
            qs = catalogue.films_coming_soon(today=today)
        elif wanted in (None, ""):
            qs = catalogue.films_now_showing_or_coming_soon(now=now, today=today)
        else:
            raise errors.InvalidRequest("status is now_showing or coming_soon.", field="status")
        return qs.order_by("title")


@extend_schema(tags=["catalogue"])
class FilmDetail(generics.RetrieveAPIView):
    serializer_class = s.FilmOutput
    queryset = Film.objects.all()


@extend_schema(tags=["catalogue"])
class CinemaList(generics.ListAPIView):
    """Cinemas with their auditoriums and seat counts."""

    serializer_class = s.CinemaOutput

    def get_queryset(self):
        return catalogue.cinemas_with_auditoriums().order_by("name")


@extend_schema(
    tags=["catalogue"],
    parameters=[s.ScreeningFilter],
    responses={
        200: s.ScreeningOutput(many=True),
        **refusals(ValidationError({"date": ["The date is out of range."]})),
    },
)
class ScreeningList(generics.ListAPIView):
    """Scheduled screenings from now on, by start time. `date` is a day in each cinema's zone."""

    serializer_class = s.ScreeningOutput

    def get_queryset(self):
        params = s.ScreeningFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        if "date" in f:
            qs = catalogue.screenings_scheduled()  # the whole day, shows already begun included
        else:
            qs = catalogue.screenings_ahead(now=timezone.now())
        cinemas = Cinema.objects.all()
        if "cinema" in f:
            ref = f["cinema"]
            cinemas = cinemas.filter(pk=int(ref)) if s.is_id(ref) else cinemas.filter(slug=ref)
            qs = qs.filter(auditorium__cinema__in=cinemas)
        if "film" in f:
            qs = qs.filter(film_id=f["film"])
        if "date" in f:
            qs = catalogue.screenings_on_local_day(
                qs, day=f["date"], cinemas=cinemas.only("pk", "time_zone")
            )
        return qs.order_by("starts_at", "id")


@extend_schema(tags=["catalogue"])
class ScreeningDetail(APIView):
    """One screening with its ticket types, prices, surcharges and booking fee."""

    @extend_schema(
        responses={
            200: s.ScreeningDetailOutput,
            **refusals(errors.ScreeningNotFound(screening=42)),
        }
    )
    def get(self, request, pk: int):
        screening = _screening(pk)
        context = {
            "prices": pricing.ticket_prices(screening),
            "surcharges": pricing.surcharges(screening.auditorium.cinema_id),
        }
        return Response(s.ScreeningDetailOutput(screening, context=context).data)


def _screening(pk: int) -> Screening:
    screening = catalogue.screening_get(screening_id=pk)
    if screening is None:
        raise errors.ScreeningNotFound(screening=pk)
    return screening


SEAT_MAP = inline_serializer(
    "SeatMap",
    {
        "screening": serializers.IntegerField(),
        "auditorium": serializers.IntegerField(),
        "generated_at": serializers.DateTimeField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "seats": inline_serializer(
            "SeatStatus",
            {
                "id": serializers.IntegerField(),
                "row": serializers.CharField(),
                "number": serializers.IntegerField(),
                "label": serializers.CharField(),
                "x": serializers.IntegerField(),
                "y": serializers.IntegerField(),
                "type": serializers.ChoiceField(
                    choices=["standard", "premium", "wheelchair", "companion", "couple"]
                ),
                "pair": serializers.IntegerField(allow_null=True),
                "status": serializers.ChoiceField(choices=["available", "held", "sold", "blocked"]),
            },
            many=True,
        ),
    },
)


@extend_schema(tags=["catalogue"])
class SeatMap(APIView):
    """The seat map with live statuses. At most a second old; holding a seat is what decides."""

    @extend_schema(responses={200: SEAT_MAP, **refusals(errors.ScreeningNotFound(screening=42))})
    def get(self, request, pk: int):
        tagged = seatmap.cached_render_tagged(pk)
        if tagged is None:
            raise errors.ScreeningNotFound(screening=pk)
        etag, body = tagged
        # A client holding this very map (weak comparison: the seats and statuses, not the time
        # it was rendered) is told so without the body.
        held = {
            tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))
        }
        if etag.removeprefix("W/") in held or "*" in held:
            response = HttpResponseNotModified()
        else:
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        response["Cache-Control"] = "max-age=1"
        return response


# ---- holds -----------------------------------------------------------------------------------
def _hold_response(hold, code=status.HTTP_200_OK) -> Response:
    seat_ids = (
        hold.seat_ids
    )  # the seats held (couple pairs included); `live` says if they still are
    # A hold just made carries its seats, read with the seats it was checked or chosen from.
    rows = getattr(hold, "seats_in_hand", None)
    if rows is None:
        rows = Seat.objects.filter(pk__in=seat_ids).values_list(
            "id", "row_label", "number", "seat_type"
        )
    seats = [{"id": pk, "label": f"{row}{num}", "type": kind} for pk, row, num, kind in rows]
    return Response(s.HoldOutput(hold, context={"seats": seats}).data, status=code)


@extend_schema(tags=["holds"])
class HoldCreate(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        request=s.HoldInput,
        parameters=[IDEMPOTENCY],
        responses={
            201: s.HoldOutput,
            **refusals(
                errors.UnknownSeats(seats=[99999]),
                errors.DuplicateSeats(seats=[1031]),
                errors.TooManySeats(limit=10, requested=12),
                errors.SeatsBlocked(seats=[1040]),
                errors.ScreeningNotFound(screening=42),
                errors.SeatUnavailable(seats=[1032]),
                errors.NoSeatsTogether(requested=6),
                errors.ScreeningNotOnSale(screening=42, reason="sales_closed"),
                errors.HoldLimitReached(per="buyer", limit=10, held=8, requested=4),
            ),
        },
        description="Hold named seats, or the best `quantity` seats together. All or nothing: "
        "409 `seat_unavailable` names the seats that were taken.",
    )
    @idempotent
    def post(self, request):
        data = s.HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        who = owner(request)
        session = "partner" not in who
        if session:
            # A browser session is held to the storefront's rules: one hold per screening
            # (asking again replaces it), and the buyer's and network's seat limits.
            who["client_ip"] = client_address(request)
        hold = checkout.hold_place(
            screening_id=v["screening"],
            seat_ids=v.get("seats"),
            quantity=v.get("quantity"),
            promo_code=v["promo_code"],
            replace=session,
            **who,
        )
        return _hold_response(hold, status.HTTP_201_CREATED)


@extend_schema(tags=["holds"])
class HoldDetail(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        responses={
            200: s.HoldOutput,
            **refusals(errors.HoldNotFound(hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f")),
        }
    )
    def get(self, request, pk):
        return _hold_response(holds.hold_get(hold_id=pk, **owner(request)))

    @extend_schema(
        responses={
            204: None,
            **refusals(
                errors.HoldNotFound(hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f"),
                errors.HoldNotActive(hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f", status="ordered"),
            ),
        }
    )
    def delete(self, request, pk):
        hold = holds.hold_get(hold_id=pk, **owner(request))
        holds.hold_release(hold=hold)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- orders ----------------------------------------------------------------------------------
def _order_response(order, code=status.HTTP_200_OK) -> Response:
    return Response(s.OrderOutput(order).data, status=code)


@extend_schema(tags=["orders"])
class OrderCreate(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        request=s.OrderInput,
        parameters=[IDEMPOTENCY],
        responses={
            201: s.OrderOutput,
            **refusals(
                errors.TicketsMismatch(held=[1031, 1032], asked=[1031]),
                errors.UnknownTicketType(ticket_type="student"),
                errors.PromoCodesUnavailable(promo_code="MI5"),
                errors.HoldNotFound(hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f"),
                errors.HoldNotActive(
                    hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f",
                    status="ordered",
                    order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e",
                ),
                errors.ScreeningNotOnSale(screening=42, reason="sales_closed"),
                errors.HoldExpired(
                    hold="8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f",
                    expired_at="2026-11-26T18:10:00+00:00",
                ),
            ),
        },
        description="Turn a live hold into an order awaiting payment, priced by the server. "
        "410 `hold_expired` if the hold died; its seats are back on sale.",
    )
    @idempotent
    def post(self, request):
        data = s.OrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = checkout.order_place(
            hold_id=v["hold"],
            customer_email=v["customer"]["email"],
            customer_name=v["customer"]["name"],
            tickets=[(t["seat"], t["ticket_type"]) for t in v["tickets"]],
            promo_code=v["promo_code"],
            language=v["language"],
            actor=actor(request),
            **owner(request),
        )
        return _order_response(order, status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderDetail(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        responses={
            200: s.OrderOutput,
            **refusals(errors.OrderNotFound(order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e")),
        }
    )
    def get(self, request, pk):
        return _order_response(orders.order_get(order_id=pk, **owner(request)))


@extend_schema(tags=["orders"])
class OrderCancel(APIView):
    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        request=s.CancelInput,
        parameters=[IDEMPOTENCY],
        responses={
            200: s.OrderOutput,
            **refusals(
                errors.OrderNotFound(order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e"),
                errors.OrderStateConflict(
                    status="cancelled",
                    wanted="cancelled",
                    order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e",
                ),
                errors.CancellationClosed(
                    order="0b7d2c4e-5f6a-4b8c-9d0e-1f2a3b4c5d6e",
                    closed_at="2026-11-27T18:00:00+00:00",
                    cutoff_minutes=120,
                ),
                errors.RefundRefused(),
            ),
        },
        description="Cancel an order; its seats go back on sale at once. A paid order is "
        "refunded through its payment provider (status `refunded`) up to the cinema's "
        "cancellation cutoff before the start (409 `cancellation_closed` after), with the "
        "booking fee only if the cinema refunds it. An order you settled yourself is "
        "cancelled and you refund your customer.",
    )
    @idempotent
    def post(self, request, pk):
        data = s.CancelInput(data=request.data or {})
        data.is_valid(raise_exception=True)
        order = orders.order_get(order_id=pk, **_owner(request))
        reason = data.validated_data["reason"]
        cancellation.order_cancel_or_refund(order_id=order.pk, actor=_actor(request), reason=reason)
        return _order_response(orders.order_get(order_id=pk, staff=True))
