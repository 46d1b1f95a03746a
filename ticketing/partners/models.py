"""Partners (ticketing platforms and film studios) and their API keys, stored hashed."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models


class PartnerKind(models.TextChoices):
    PLATFORM = "platform", "Ticketing platform"
    STUDIO = "studio", "Film studio"
    # The cinemas' own door scanners (`create_scanner`): keys, not a business partner.
    HOUSE = "house", "The cinemas' own devices"


class Scope(models.TextChoices):
    READ = "read", "Read catalogue and seat maps"
    BOOK = "book", "Hold seats and create orders"
    SETTLE = "settle", "Settle orders it took payment for"
    CAMPAIGNS = "campaigns", "Manage its campaigns and their codes"
    REPORTS = "reports", "Read its sales and campaign reports"
    WEBHOOKS = "webhooks", "Manage its webhook endpoints and deliveries"
    # Door scanners only: a key with it is bound to one cinema and has no other scope.
    CHECKIN = "checkin", "Check tickets in at one cinema's door"


DEFAULT_SCOPES = [Scope.READ.value, Scope.BOOK.value]


class Partner(models.Model):
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(
        max_length=10, choices=PartnerKind.choices, default=PartnerKind.PLATFORM
    )
    commission_bps = models.PositiveIntegerField(default=0, help_text="Commission in basis points.")
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """The key is `mq_<prefix>_<secret>`; only its SHA-256 is stored, and it is shown once.

    A partner has several (one per integration, say), each with its own name, scopes and rate
    limit, so one can be revoked without stopping the others."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What the key is for, e.g. 'web shop'.")
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    rate_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Requests a minute for this key; empty: the partners' default "
        "(MARQUEE_THROTTLE_PARTNER).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    cinema = models.ForeignKey(
        "screenings.Cinema",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A door scanner's cinema: its key checks tickets in there and nowhere else.",
    )

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name or 'key'} mq_{self.prefix}_… ({self.partner})"
