"""The partner REST API: thin views that validate, call a service or selector, and serialise."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, Q
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ticketing import buyers, errors
from ticketing.flows import cancellation
from ticketing.inventory import holds, seatmap
from ticketing.orders import pricing
from ticketing.orders import services as orders
from ticketing.screenings.models import Cinema, Film, Screening, ScreeningStatus, Seat

from . import serializers as s
from .idempotency import idempotent
from .permissions import CanBook

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


def _owner(request) -> dict:
    """Who is acting: a partner, or a signed-in browser session."""
    partner = getattr(request.user, "partner", None)
    if partner is not None:
        return {"partner": partner}
    return {"session_key": buyers.browser_key(request)}


def _actor(request) -> str:
    partner = getattr(request.user, "partner", None)
    if partner is not None:
        return f"partner:{partner.pk}"
    return f"user:{request.user.pk}"


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
)
class FilmList(generics.ListAPIView):
    """Films now showing (with screenings ahead) and coming soon (released later)."""

    serializer_class = s.FilmOutput

    def get_queryset(self):
        now = timezone.now()
        upcoming = Q(screenings__starts_at__gte=now, screenings__status=ScreeningStatus.SCHEDULED)
        today = now.date()
        showing = Film.objects.filter(
            upcoming, Q(release_date__isnull=True) | Q(release_date__lte=today)
        )
        coming = Film.objects.filter(release_date__gt=today)
        wanted = self.request.query_params.get("status")
        if wanted == "now_showing":
            qs = showing
        elif wanted == "coming_soon":
            qs = coming
        elif wanted in (None, ""):
            qs = Film.objects.filter(Q(pk__in=showing.values("pk")) | Q(pk__in=coming.values("pk")))
        else:
            raise errors.InvalidRequest("status is now_showing or coming_soon.", field="status")
        return qs.distinct().order_by("title")


@extend_schema(tags=["catalogue"])
class FilmDetail(generics.RetrieveAPIView):
    serializer_class = s.FilmOutput
    queryset = Film.objects.all()


@extend_schema(tags=["catalogue"])
class CinemaList(generics.ListAPIView):
    """Cinemas with their auditoriums and seat counts."""

    serializer_class = s.CinemaOutput

    def get_queryset(self):
        from django.db.models import Prefetch

        from ticketing.screenings.models import Auditorium

        rooms = Auditorium.objects.annotate(seat_count=Count("seats")).order_by("name")
        return Cinema.objects.prefetch_related(Prefetch("auditoriums", queryset=rooms)).order_by(
            "name"
        )


@extend_schema(tags=["catalogue"], parameters=[s.ScreeningFilter])
class ScreeningList(generics.ListAPIView):
    """Scheduled screenings from now on, by start time. `date` is a day in each cinema's zone."""

    serializer_class = s.ScreeningOutput

    def get_queryset(self):
        params = s.ScreeningFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        f = params.validated_data
        qs = Screening.objects.select_related("film", "auditorium__cinema").filter(
            status=ScreeningStatus.SCHEDULED
        )
        cinemas = Cinema.objects.all()
        if "cinema" in f:
            ref = f["cinema"]
            cinemas = cinemas.filter(pk=int(ref)) if s.is_id(ref) else cinemas.filter(slug=ref)
            qs = qs.filter(auditorium__cinema__in=cinemas)
        if "film" in f:
            qs = qs.filter(film_id=f["film"])
        if "date" in f:
            day = f["date"]
            window = Q(pk__in=[])
            for cinema in cinemas.only("pk", "time_zone"):
                start = timezone.make_aware(datetime.combine(day, time.min), cinema.tz)
                window |= Q(
                    auditorium__cinema=cinema.pk,
                    starts_at__gte=start,
                    starts_at__lt=start + timedelta(days=1),
                )
            qs = qs.filter(window)
        else:
            qs = qs.filter(starts_at__gte=timezone.now())
        return qs.order_by("starts_at", "id")


@extend_schema(tags=["catalogue"])
class ScreeningDetail(APIView):
    """One screening with its ticket types, prices, surcharges and booking fee."""

    @extend_schema(responses={200: s.ScreeningDetailOutput, 404: ERROR})
    def get(self, request, pk: int):
        screening = _screening(pk)
        context = {
            "prices": pricing.ticket_prices(screening),
            "surcharges": pricing.surcharges(screening.auditorium.cinema_id),
        }
        return Response(s.ScreeningDetailOutput(screening, context=context).data)


def _screening(pk: int) -> Screening:
    try:
        return Screening.objects.select_related("film", "auditorium__cinema").get(pk=pk)
    except Screening.DoesNotExist:
        raise errors.ScreeningNotFound(screening=pk) from None


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

    @extend_schema(responses={200: SEAT_MAP, 404: ERROR})
    def get(self, request, pk: int):
        body = seatmap.cached_render(pk)
        if body is None:
            raise errors.ScreeningNotFound(screening=pk)
        response = HttpResponse(body, content_type="application/json")
        response["Cache-Control"] = "max-age=1"
        return response


# ---- holds -----------------------------------------------------------------------------------
def _hold_response(hold, code=status.HTTP_200_OK) -> Response:
    seat_ids = (
        hold.seat_ids
    )  # the seats held (couple pairs included); `live` says if they still are
    seats = [
        {"id": pk, "label": f"{row}{num}", "type": kind}
        for pk, row, num, kind in Seat.objects.filter(pk__in=seat_ids).values_list(
            "id", "row_label", "number", "seat_type"
        )
    ]
    return Response(s.HoldOutput(hold, context={"seats": seats}).data, status=code)


@extend_schema(tags=["holds"])
class HoldCreate(APIView):
    permission_classes = [CanBook]

    @extend_schema(
        request=s.HoldInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.HoldOutput, 400: ERROR, 401: ERROR, 404: ERROR, 409: ERROR},
        description="Hold named seats, or the best `quantity` seats together. All or nothing: "
        "409 `seat_unavailable` names the seats that were taken.",
    )
    @idempotent
    def post(self, request):
        data = s.HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        hold = holds.hold_create(
            screening_id=v["screening"],
            seat_ids=v.get("seats"),
            quantity=v.get("quantity"),
            **_owner(request),
        )
        return _hold_response(hold, status.HTTP_201_CREATED)


@extend_schema(tags=["holds"])
class HoldDetail(APIView):
    permission_classes = [CanBook]

    @extend_schema(responses={200: s.HoldOutput, 404: ERROR})
    def get(self, request, pk):
        return _hold_response(holds.hold_get(hold_id=pk, **_owner(request)))

    @extend_schema(responses={204: None, 404: ERROR, 409: ERROR})
    def delete(self, request, pk):
        hold = holds.hold_get(hold_id=pk, **_owner(request))
        holds.hold_release(hold=hold)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- orders ----------------------------------------------------------------------------------
def _order_response(order, code=status.HTTP_200_OK) -> Response:
    return Response(s.OrderOutput(order).data, status=code)


@extend_schema(tags=["orders"])
class OrderCreate(APIView):
    permission_classes = [CanBook]

    @extend_schema(
        request=s.OrderInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.OrderOutput, 400: ERROR, 404: ERROR, 409: ERROR, 410: ERROR},
        description="Turn a live hold into an order awaiting payment, priced by the server. "
        "410 `hold_expired` if the hold died; its seats are back on sale.",
    )
    @idempotent
    def post(self, request):
        data = s.OrderInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = orders.order_create(
            hold_id=v["hold"],
            customer_email=v["customer"]["email"],
            customer_name=v["customer"]["name"],
            tickets=[(t["seat"], t["ticket_type"]) for t in v["tickets"]],
            promo_code=v["promo_code"],
            language=v["language"],
            actor=_actor(request),
            **_owner(request),
        )
        return _order_response(order, status.HTTP_201_CREATED)


@extend_schema(tags=["orders"])
class OrderDetail(APIView):
    permission_classes = [CanBook]

    @extend_schema(responses={200: s.OrderOutput, 404: ERROR})
    def get(self, request, pk):
        return _order_response(orders.order_get(order_id=pk, **_owner(request)))


@extend_schema(tags=["orders"])
class OrderCancel(APIView):
    permission_classes = [CanBook]

    @extend_schema(
        request=s.CancelInput,
        parameters=[IDEMPOTENCY],
        responses={200: s.OrderOutput, 404: ERROR, 409: ERROR},
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
