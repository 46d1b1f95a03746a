"""Cinemas, auditoriums and their seat layouts, films, screenings and what a ticket costs."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{value!r} is not an IANA time zone") from exc


class Cinema(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=80, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    currency = models.CharField(
        max_length=3, default="EUR", validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 4217 code")]
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1)], help_text="How long seats stay held."
    )
    booking_fee = models.PositiveIntegerField(
        default=0, help_text="Booking fee per ticket, in minor units (cents)."
    )
    booking_fee_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most booking fee charged on one order (minor units)."
    )
    cancellation_cutoff_minutes = models.PositiveIntegerField(
        default=120, help_text="Buyers may cancel their own order up to this long before the start."
    )
    refund_booking_fee = models.BooleanField(
        default=False, help_text="Give the booking fee back when a buyer cancels."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Auditorium(models.Model):
    cinema = models.ForeignKey(Cinema, on_delete=models.CASCADE, related_name="auditoriums")
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["cinema__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cinema", "name"], name="auditorium_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.cinema.name} · {self.name}"


class SeatType(models.TextChoices):
    STANDARD = "standard", _("Standard")
    PREMIUM = "premium", _("Premium")
    WHEELCHAIR = "wheelchair", _("Wheelchair space")
    COMPANION = "companion", _("Companion")
    COUPLE = "couple", _("Couple")


class Seat(models.Model):
    """One place on an auditorium's map. A seat that has tickets is protected from deletion."""

    auditorium = models.ForeignKey(Auditorium, on_delete=models.CASCADE, related_name="seats")
    row_label = models.CharField(max_length=4)
    number = models.PositiveSmallIntegerField()
    x = models.PositiveSmallIntegerField(help_text="Column on the seat map grid.")
    y = models.PositiveSmallIntegerField(
        help_text="Row on the seat map grid, 0 nearest the screen."
    )
    seat_type = models.CharField(max_length=12, choices=SeatType.choices, default=SeatType.STANDARD)
    is_sellable = models.BooleanField(default=True, help_text="Unticked: blocked, never sold.")
    pair = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The other half of a couple seat; the two are sold together.",
    )

    class Meta:
        ordering = ["auditorium_id", "y", "x"]
        constraints = [
            models.UniqueConstraint(
                fields=["auditorium", "row_label", "number"], name="seat_unique_label"
            ),
            models.UniqueConstraint(fields=["auditorium", "x", "y"], name="seat_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.row_label}{self.number}"

    @property
    def label(self) -> str:
        return f"{self.row_label}{self.number}"


class Film(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    synopsis = models.TextField(blank=True)
    runtime_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    certificate = models.CharField(max_length=12, blank=True)
    release_date = models.DateField(null=True, blank=True)
    poster_url = models.URLField(blank=True)
    languages = models.JSONField(default=list, blank=True, help_text='e.g. ["en", "fr"]')

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class ScreeningFormat(models.TextChoices):
    TWO_D = "2D", _("2D")
    THREE_D = "3D", _("3D")
    IMAX = "IMAX", _("IMAX")


class ScreeningStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Screening(models.Model):
    """A film in an auditorium at a time (UTC). Overlaps are refused by a PostgreSQL exclusion
    constraint on (auditorium, [starts_at, ends_at)) among scheduled screenings."""

    film = models.ForeignKey(Film, on_delete=models.PROTECT, related_name="screenings")
    auditorium = models.ForeignKey(Auditorium, on_delete=models.PROTECT, related_name="screenings")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(
        blank=True, help_text="Starts plus runtime plus cleaning; left blank, computed."
    )
    format = models.CharField(max_length=4, choices=ScreeningFormat.choices, default="2D")
    audio_language = models.CharField(max_length=8, default="en")
    subtitles = models.CharField(max_length=8, blank=True)
    sales_open_at = models.DateTimeField(null=True, blank=True, help_text="Blank: on sale now.")
    sales_close_at = models.DateTimeField(null=True, blank=True, help_text="Blank: at start.")
    status = models.CharField(
        max_length=10, choices=ScreeningStatus.choices, default=ScreeningStatus.SCHEDULED
    )

    CLEANING = timedelta(minutes=15)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["auditorium", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="screening_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at, self.auditorium.cinema.tz)
        return f"{self.film.title} · {self.auditorium} · {local:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        self._fill_end()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self._fill_end()
        if self.starts_at and self.ends_at and self.auditorium_id:
            # A friendly message for staff; the database constraint is what guarantees it.
            clash = Screening.objects.filter(
                auditorium_id=self.auditorium_id,
                status=ScreeningStatus.SCHEDULED,
                starts_at__lt=self.ends_at,
                ends_at__gt=self.starts_at,
            ).exclude(pk=self.pk)
            if self.status == ScreeningStatus.SCHEDULED and clash.exists():
                raise ValidationError(f"Overlaps {clash.first()} in this auditorium.")

    def _fill_end(self) -> None:
        if self.starts_at and self.film_id and not self.ends_at:
            # In UTC: adding to a local time would be wall-clock arithmetic across a DST change.
            starts = self.starts_at.astimezone(UTC)
            self.ends_at = starts + timedelta(minutes=self.film.runtime_minutes) + self.CLEANING

    def is_on_sale(self, now=None, *, opens_at=None) -> bool:
        """Whether a new buyer may hold seats now. `opens_at` is an earlier opening that applies
        to this buyer (a campaign's presale, `promotions.presales`); general sale otherwise."""
        now = now or timezone.now()
        opens = self.sales_open_at
        if opens_at is not None and (opens is None or opens_at < opens):
            opens = opens_at
        return self.is_selling(now) and (opens is None or now >= opens)

    def is_selling(self, now=None) -> bool:
        """Whether a buyer who already holds seats may still order and pay: not cancelled, and
        sales not closed. (When they could start was decided when they held.)"""
        now = now or timezone.now()
        return self.status == ScreeningStatus.SCHEDULED and now < (
            self.sales_close_at or self.starts_at
        )


class TicketType(models.Model):
    """A kind of ticket a cinema sells (adult, child, ...) with its list price."""

    cinema = models.ForeignKey(Cinema, on_delete=models.CASCADE, related_name="ticket_types")
    code = models.SlugField(max_length=20)
    name = models.CharField(max_length=60)
    price = models.PositiveIntegerField(help_text="List price in minor units.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["cinema", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["cinema", "code"], name="ticket_type_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.cinema.slug})"


class ScreeningPrice(models.Model):
    """A price for one ticket type at one screening, overriding the cinema's list price."""

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="prices")
    ticket_type = models.ForeignKey(TicketType, on_delete=models.CASCADE, related_name="+")
    price = models.PositiveIntegerField(help_text="Minor units.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["screening", "ticket_type"], name="screening_price_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_type.name}: {self.price}"


class SeatTypeSurcharge(models.Model):
    cinema = models.ForeignKey(Cinema, on_delete=models.CASCADE, related_name="surcharges")
    seat_type = models.CharField(max_length=12, choices=SeatType.choices)
    amount = models.PositiveIntegerField(
        help_text="Added to each ticket on this seat type (minor)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cinema", "seat_type"], name="surcharge_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_seat_type_display()} +{self.amount}"
