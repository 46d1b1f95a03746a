"""Catalogue reads: films, cinemas and screenings, for the partner API and the storefront alike.

Querysets, unordered: each caller orders, pages or annotates them (the storefront adds seat
availability), and the query counts stay the callers' own. Both read the catalogue here so that
they cannot disagree about what these words mean, decided once as a moviegoer reads them:

- A screening is **ahead** while it is scheduled (not cancelled) and has not started.
- A film is **now showing** when it is out (released on or before today, or without a release
  date) and has a screening ahead.
- A film is **coming soon** when its release date is after today, whether or not previews or a
  presale already put screenings of it on sale. A film is never both.
- **A day** at a cinema is that day as the cinema's own clock reads it, local midnight to local
  midnight: a 23:30 show in Shanghai is on the Shanghai day, not on the UTC one.

"Today" is the caller's: the API has no cinema to take it from and uses the site's time zone,
the storefront uses its date strip's first day.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from .models import Auditorium, Cinema, Film, Screening, ScreeningStatus


# ---- screenings ---------------------------------------------------------------------------------
def screenings_scheduled() -> QuerySet[Screening]:
    """Screenings not cancelled, past ones included, with their film, auditorium and cinema."""
    return Screening.objects.filter(status=ScreeningStatus.SCHEDULED).select_related(
        "film", "auditorium__cinema"
    )


def screenings_ahead(*, now: datetime) -> QuerySet[Screening]:
    """Scheduled screenings that have not started at `now`: one starting at `now` has."""
    return screenings_scheduled().filter(starts_at__gt=now)


def screenings_on_local_day(
    screenings: QuerySet[Screening], *, day: date, cinemas: Iterable[Cinema]
) -> QuerySet[Screening]:
    """Those of `screenings` at `cinemas` that start on `day` as each cinema's clock reads it.

    One window per cinema, so `cinemas` is read once (only `pk` and `time_zone` are needed);
    a cinema left out of `cinemas` contributes nothing."""
    window = Q(pk__in=[])
    for cinema in cinemas:
        start = datetime.combine(day, time.min, tzinfo=cinema.tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=cinema.tz).astimezone(UTC)
        window |= Q(auditorium__cinema=cinema.pk, starts_at__gte=start, starts_at__lt=end)
    return screenings.filter(window)


def screening_get(*, screening_id: int) -> Screening | None:
    """One screening, whatever its status, with its film, auditorium and cinema."""
    return (
        Screening.objects.select_related("film", "auditorium__cinema")
        .filter(pk=screening_id)
        .first()
    )


# ---- films --------------------------------------------------------------------------------------
def films_with_screenings_ahead(*, now: datetime) -> QuerySet[Film]:
    """Films with at least one screening ahead, released or not."""
    ahead = Screening.objects.filter(
        film=OuterRef("pk"), status=ScreeningStatus.SCHEDULED, starts_at__gt=now
    )
    return Film.objects.filter(Exists(ahead))


def films_now_showing(*, now: datetime, today: date) -> QuerySet[Film]:
    """Out by `today` (or undated) and with a screening ahead."""
    return films_with_screenings_ahead(now=now).filter(
        Q(release_date__isnull=True) | Q(release_date__lte=today)
    )


def films_coming_soon(*, today: date) -> QuerySet[Film]:
    """Released after `today`, previews and presales or not."""
    return Film.objects.filter(release_date__gt=today)


def films_now_showing_or_coming_soon(*, now: datetime, today: date) -> QuerySet[Film]:
    """Each film once: the two never overlap, and a film out with nothing ahead is neither."""
    return films_now_showing(now=now, today=today) | films_coming_soon(today=today)


# ---- cinemas ------------------------------------------------------------------------------------
def cinemas_with_auditoriums() -> QuerySet[Cinema]:
    """Cinemas with their auditoriums prefetched by name, each annotated with `seat_count`."""
    rooms = Auditorium.objects.annotate(seat_count=Count("seats")).order_by("name")
    return Cinema.objects.prefetch_related(Prefetch("auditoriums", queryset=rooms))
