"""The campaign banner: on the home page the campaign to feature, on a film's page the campaign
promoting that film, while it runs (between its start and end; a campaign without a banner
title has no banner).

When several run, the one that started last is shown. One query either way, whatever the
number of campaigns or films: the campaign with its first film's slug in a subquery (where
"Book now" goes when the campaign names no link of its own).
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from promotions.models import Campaign
from ticketing.screenings.models import Film

BANNER_FIELDS = ("banner_title", "banner_text", "banner_image", "banner_link")


def _running():
    now = timezone.now()
    first_film = Film.objects.filter(campaigns=OuterRef("pk")).order_by("release_date", "pk")
    return (
        Campaign.objects.filter(starts_at__lte=now, ends_at__gt=now, banner_approved=True)
        .exclude(banner_title="")
        .annotate(film_slug=Subquery(first_film.values("slug")[:1]))
        .only(*BANNER_FIELDS)
        .order_by("-starts_at", "-pk")
    )


def _banner(campaign: Campaign | None, url: str = "") -> dict | None:
    if campaign is None:
        return None
    if not url and campaign.film_slug:
        url = reverse("storefront:film", args=[campaign.film_slug])
    return {
        "title": campaign.banner_title,
        "text": campaign.banner_text,
        "url": campaign.banner_link or url,
        "image_url": campaign.banner_image.url if campaign.banner_image else "",
        "film": campaign.film_slug,
    }


def featured(request) -> dict | None:
    """{"title", "text", "url", "image_url", "film"} of the campaign to feature, or None."""
    return _banner(_running().first())


def for_film(request, film: Film) -> dict | None:
    """The banner of a running campaign for this film, or None. Without a link of its own it
    points at the film's showtimes, on the same page."""
    return _banner(_running().filter(films=film).first(), url="#showtimes")
