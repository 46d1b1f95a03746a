"""Campaigns, their promo codes and what each code gave.

A campaign is a partner's promotion of films (a studio's, often with a platform), over dates,
with a discount budget in one currency. Its codes take something off tickets; every use is a
`Redemption` of one order, and the counters that limits are checked against (a code's uses, a
code's uses per email, a campaign's spent budget) move by conditional statements only
(`promotions/redemptions.py`), so no limit is passed under any concurrency.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Funder(models.TextChoices):
    """Who pays for a campaign's discounts: settlement knows who owes whom."""

    STUDIO = "studio", _("The studio")
    PLATFORM = "platform", _("The platform")
    CINEMA = "cinema", _("The cinema")


class Campaign(models.Model):
    name = models.CharField(max_length=120)
    studio = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="studio_campaigns"
    )
    platform = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="platform_campaigns",
    )
    films = models.ManyToManyField("screenings.Film", related_name="campaigns", blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="EUR")
    budget = models.PositiveIntegerField(help_text="Most discount the campaign gives, minor units.")
    spent = models.PositiveIntegerField(default=0, help_text="Discount given so far, minor units.")
    funder = models.CharField(max_length=10, choices=Funder.choices, default=Funder.STUDIO)
    presale_opens_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Its films' screenings go on sale from then for holders of its presale codes "
        "and its platform's keys, before general sale.",
    )
    banner_title = models.CharField(max_length=120, blank=True)
    banner_text = models.CharField(max_length=300, blank=True)
    banner_image = models.ImageField(upload_to="campaigns/", blank=True)
    banner_link = models.URLField(blank=True)
    banner_approved = models.BooleanField(
        default=True,
        help_text="Shown on the storefront only once staff approve it: a banner a partner set "
        "or changed through the API waits for staff.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(spent__lte=F("budget")), name="campaign_within_budget"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_dates"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_running(self, now=None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now < self.ends_at

    @property
    def budget_left(self) -> int:
        return self.budget - self.spent


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent off")
    AMOUNT = "amount", _("Amount off per ticket")
    SET_PRICE = "set_price", _("Set price per ticket")


class PromoCode(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(
        max_length=40, unique=True, help_text="Stored normalised: upper case, no spaces or dashes."
    )
    kind = models.CharField(max_length=10, choices=DiscountKind.choices)
    value = models.PositiveIntegerField(
        help_text="Percent (1-100), or minor units off / the set price per ticket."
    )
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: no limit.")
    uses = models.PositiveIntegerField(default=0)
    max_uses_per_email = models.PositiveIntegerField(null=True, blank=True)
    min_tickets = models.PositiveSmallIntegerField(default=1)
    max_tickets = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most tickets discounted in one order."
    )
    max_discount_per_order = models.PositiveIntegerField(null=True, blank=True)
    opens_presale = models.BooleanField(
        default=False, help_text="Lets its holder buy during the campaign's presale."
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # Targeting: empty means any (films default to the campaign's).
    films = models.ManyToManyField("screenings.Film", related_name="+", blank=True)
    cinemas = models.ManyToManyField("screenings.Cinema", related_name="+", blank=True)
    screenings = models.ManyToManyField("screenings.Screening", related_name="+", blank=True)
    ticket_types = models.JSONField(
        default=list, blank=True, help_text='Ticket type codes, e.g. ["adult", "student"].'
    )
    weekdays = models.JSONField(
        default=list, blank=True, help_text="ISO weekdays 1 (Monday) to 7, in the cinema's zone."
    )
    starts_after = models.TimeField(null=True, blank=True, help_text="Cinema's local time.")
    starts_before = models.TimeField(null=True, blank=True, help_text="Cinema's local time.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=F("max_uses")),
                name="code_within_max_uses",
            ),
            models.CheckConstraint(
                condition=~Q(kind="percent") | Q(value__gte=1, value__lte=100),
                name="code_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CodeEmailUse(models.Model):
    """How many live uses a code has for one buyer email: the per-email limit's counter."""

    code = models.ForeignKey(PromoCode, on_delete=models.CASCADE, related_name="+")
    email = models.CharField(max_length=254)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "email"], name="one_counter_per_code_email")
        ]

    def __str__(self) -> str:
        return f"{self.code_id}:{self.email} x{self.uses}"


class Redemption(models.Model):
    """One order's use of a code: what it took off, and who funds it. Given back once (when the
    order expires, is cancelled or refunded); a refunded ticket gives back its own discount."""

    code = models.ForeignKey(PromoCode, on_delete=models.PROTECT, related_name="redemptions")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="redemptions")
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="redemption"
    )
    partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The partner that sold the order (the storefront: none).",
    )
    email = models.CharField(max_length=254)
    discount = models.PositiveIntegerField(help_text="Still given, minor units.")
    funder = models.CharField(max_length=10, choices=Funder.choices)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "created_at"])]

    def __str__(self) -> str:
        return f"{self.code_id} on order {self.order_id}"
