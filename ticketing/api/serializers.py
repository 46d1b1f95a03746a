"""Input and output shapes of the partner API.

Inputs validate at the edge; outputs are read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from ticketing import errors
from ticketing.inventory.models import Hold
from ticketing.orders.models import Order
from ticketing.screenings.models import Auditorium, Cinema, Film, Screening, ScreeningStatus


def is_id(value: str) -> bool:
    """An id given as text: ASCII digits only (`"²".isdigit()` is true, and `int("²")` fails)."""
    return value.isascii() and value.isdigit() and len(value) <= 18


MAX_ID = 2**63 - 1  # beyond a bigint, an id cannot exist (and SQLite would overflow)


# ---- inputs ----------------------------------------------------------------------------------
@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "named seats", value={"screening": 42, "seats": [1031, 1032]}, request_only=True
        ),
        OpenApiExample("best available", value={"screening": 42, "quantity": 3}, request_only=True),
    ]
)
class HoldInput(serializers.Serializer):
    screening = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    seats = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        min_length=1,  # allow_empty answers first; this puts minItems in the schema
    )
    quantity = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    promo_code = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A code that opens a campaign's presale for its holder.",
    )

    def validate(self, attrs):
        has_seats, has_quantity = "seats" in attrs, "quantity" in attrs
        if has_seats == has_quantity:
            raise serializers.ValidationError(
                "Give either 'seats' (a list of seat ids) or 'quantity'."
            )
        limit = settings.MARQUEE["MAX_SEATS_PER_ORDER"]
        if has_seats and len(attrs["seats"]) > limit * 4:
            # Far past the limit: refuse before looking the seats up, with the same code as the
            # service gives for 11 seats (the exact limit counts couple seats' pairs, so it is
            # the service's to check).
            raise errors.TooManySeats(limit=limit, requested=len(attrs["seats"]))
        return attrs


class CustomerInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField(max_length=120, trim_whitespace=True)


class TicketInput(serializers.Serializer):
    seat = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    ticket_type = serializers.CharField(
        max_length=40, help_text="Ticket type id or code, e.g. 'adult'."
    )

    def validate_ticket_type(self, value: str) -> int | str:
        return int(value) if is_id(value) else value


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "two tickets",
            value={
                "hold": "8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f",
                "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
                "tickets": [
                    {"seat": 1031, "ticket_type": "adult"},
                    {"seat": 1032, "ticket_type": "child"},
                ],
            },
            request_only=True,
        )
    ]
)
class OrderInput(serializers.Serializer):
    hold = serializers.UUIDField()
    customer = CustomerInput()
    tickets = serializers.ListField(
        child=TicketInput(), allow_empty=False, min_length=1, max_length=40
    )
    promo_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(
        choices=["en", "fr", "zh-hans"], required=False, default="en"
    )


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ScreeningFilter(serializers.Serializer):
    film = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    cinema = serializers.CharField(max_length=60, required=False, help_text="Cinema id or slug.")
    date = serializers.DateField(required=False, help_text="A day in the cinema's own time zone.")

    def validate_date(self, value):
        if not 1900 <= value.year <= 2999:
            raise serializers.ValidationError("The date is out of range.")
        return value


# ---- outputs ---------------------------------------------------------------------------------
def _utc(value) -> str:
    """A UTC instant written the way every other field writes one (`...Z`)."""
    return serializers.DateTimeField().to_representation(value)


class FilmOutput(serializers.ModelSerializer):
    class Meta:
        model = Film
        fields = [
            "id",
            "title",
            "slug",
            "synopsis",
            "runtime_minutes",
            "certificate",
            "release_date",
            "poster_url",
            "languages",
        ]


class AuditoriumOutput(serializers.ModelSerializer):
    seat_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Auditorium
        fields = ["id", "name", "seat_count"]


class CinemaOutput(serializers.ModelSerializer):
    auditoriums = AuditoriumOutput(many=True, read_only=True)

    class Meta:
        model = Cinema
        fields = [
            "id",
            "name",
            "slug",
            "address",
            "city",
            "time_zone",
            "currency",
            "hold_minutes",
            "auditoriums",
        ]


class ScreeningStatusField(serializers.ChoiceField):
    """A screening's status; described in the schema as one named enum (see `schema.py`)."""

    def __init__(self, **kwargs):
        super().__init__(choices=ScreeningStatus.choices, **kwargs)


class ScreeningOutput(serializers.ModelSerializer):
    status = ScreeningStatusField(read_only=True)
    film = serializers.SerializerMethodField()
    cinema = serializers.SerializerMethodField()
    auditorium = serializers.SerializerMethodField()
    starts_at_local = serializers.SerializerMethodField()
    on_sale = serializers.SerializerMethodField()

    class Meta:
        model = Screening
        fields = [
            "id",
            "film",
            "cinema",
            "auditorium",
            "starts_at",
            "ends_at",
            "starts_at_local",
            "format",
            "audio_language",
            "subtitles",
            "status",
            "sales_open_at",
            "sales_close_at",
            "on_sale",
        ]

    def get_film(self, obj) -> dict:
        return {"id": obj.film_id, "title": obj.film.title}

    def get_cinema(self, obj) -> dict:
        cinema = obj.auditorium.cinema
        return {"id": cinema.pk, "name": cinema.name, "time_zone": cinema.time_zone}

    def get_auditorium(self, obj) -> dict:
        return {"id": obj.auditorium_id, "name": obj.auditorium.name}

    def get_starts_at_local(self, obj) -> str:
        return timezone.localtime(obj.starts_at, obj.auditorium.cinema.tz).isoformat()

    def get_on_sale(self, obj) -> bool:
        return obj.is_on_sale()


class TicketPriceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    price = serializers.IntegerField(help_text="Minor units.")


class ScreeningDetailOutput(ScreeningOutput):
    currency = serializers.SerializerMethodField()
    ticket_types = serializers.SerializerMethodField()
    seat_type_surcharges = serializers.SerializerMethodField()
    booking_fee = serializers.SerializerMethodField()

    class Meta(ScreeningOutput.Meta):
        fields = [
            *ScreeningOutput.Meta.fields,
            "currency",
            "ticket_types",
            "seat_type_surcharges",
            "booking_fee",
        ]

    def get_currency(self, obj) -> str:
        return obj.auditorium.cinema.currency

    def get_ticket_types(self, obj) -> list[dict]:
        return [
            {"id": t.pk, "code": t.code, "name": t.name, "price": price}
            for t, price in self.context["prices"].values()
        ]

    def get_seat_type_surcharges(self, obj) -> dict:
        return self.context["surcharges"]

    def get_booking_fee(self, obj) -> dict:
        cinema = obj.auditorium.cinema
        return {"per_ticket": cinema.booking_fee, "cap_per_order": cinema.booking_fee_cap}


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "held",
            value={
                "id": "8c1e6f0a-3b2d-4c5e-9f10-2a3b4c5d6e7f",
                "screening": 42,
                "status": "active",
                "live": True,
                "seats": [
                    {"id": 1031, "label": "F7", "type": "standard"},
                    {"id": 1032, "label": "F8", "type": "standard"},
                ],
                "created_at": "2026-11-26T18:00:00Z",
                "expires_at": "2026-11-26T18:10:00Z",
                "extended_at": None,
            },
            response_only=True,
        )
    ]
)
class HoldOutput(serializers.ModelSerializer):
    seats = serializers.SerializerMethodField()
    live = serializers.SerializerMethodField()

    class Meta:
        model = Hold
        fields = [
            "id",
            "screening",
            "status",
            "live",
            "seats",
            "created_at",
            "expires_at",
            "extended_at",
        ]

    def get_seats(self, obj) -> list[dict]:
        return self.context.get("seats", [])

    def get_live(self, obj) -> bool:
        return obj.is_live()


class OrderTicketOutput(serializers.Serializer):
    seat = serializers.IntegerField(source="seat_id")
    seat_label = serializers.CharField()
    seat_type = serializers.CharField()
    ticket_type = serializers.CharField(source="ticket_type_name")
    price = serializers.IntegerField()
    surcharge = serializers.IntegerField()
    discount = serializers.IntegerField(help_text="Taken off this ticket by the promo code.")
    discount_funder = serializers.CharField(help_text="Who funds it: studio, platform, cinema.")
    code = serializers.SerializerMethodField(help_text="Ticket code for the QR; only once paid.")

    def get_code(self, obj) -> str | None:
        return obj.code if obj.order.status == "paid" else None


class OrderOutput(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        source="effective_status",
        choices=["pending_payment", "paid", "cancelled", "refunded", "expired"],
    )
    customer = serializers.SerializerMethodField()
    tickets = OrderTicketOutput(many=True, read_only=True)
    screening = serializers.SerializerMethodField()
    next_action = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "code",
            "status",
            "screening",
            "customer",
            "tickets",
            "currency",
            "subtotal",
            "booking_fee",
            "discount",
            "total",
            "promo_code",
            "expires_at",
            "created_at",
            "paid_at",
            "next_action",
        ]

    def get_customer(self, obj) -> dict:
        return {"email": obj.customer_email, "name": obj.customer_name}

    def get_screening(self, obj) -> dict:
        screening = obj.screening
        cinema = screening.auditorium.cinema
        return {
            "id": screening.pk,
            "film": screening.film.title,
            "cinema": cinema.name,
            "auditorium": screening.auditorium.name,
            "starts_at": _utc(screening.starts_at),
            "starts_at_local": timezone.localtime(screening.starts_at, cinema.tz).isoformat(),
        }

    def get_next_action(self, obj) -> dict | None:
        if obj.effective_status != "pending_payment":
            return None
        return {
            "type": "payment",
            "amount": obj.total,
            "currency": obj.currency,
            "pay_before": _utc(obj.expires_at),
        }
