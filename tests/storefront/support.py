"""Helpers of the storefront tests: pages as a browser asks for them, and what they show."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests import factories
from ticketing import buyers
from ticketing.inventory.holds import hold_create
from ticketing.inventory.models import Hold
from ticketing.screenings.models import Cinema, Screening


def at_local(cinema: Cinema, day: date, hour: int, minute: int = 0) -> datetime:
    """The UTC moment of `day` `hour:minute` on the cinema's clock."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(cinema.time_zone)).astimezone(
        UTC
    )


def local_today(cinema: Cinema) -> date:
    return timezone.now().astimezone(ZoneInfo(cinema.time_zone)).date()


def later_today(cinema: Cinema) -> datetime:
    """A moment still ahead on the cinema's local today (sooner when midnight is near)."""
    now = timezone.now()
    midnight = at_local(cinema, local_today(cinema) + timedelta(days=1), 0)
    return now + min(timedelta(minutes=30), (midnight - now) / 2)


def screening_at(room, starts_at: datetime, **kw) -> Screening:
    kw.setdefault("film", factories.film())
    return Screening.objects.create(auditorium=room, starts_at=starts_at, **kw)


def seat_id(screening: Screening, label: str) -> int:
    return factories.seats(screening.auditorium, label)[0]


def buyer_key(client) -> str:
    """The hashed buyer token the storefront stores on this browser's holds."""
    token = client.session[buyers.SESSION_FIELD]
    return hashlib.sha256(token.encode()).hexdigest()


def hold_seats(client, screening: Screening, *labels: str, **extra):
    ids = factories.seats(screening.auditorium, *labels)
    return client.post(f"/screenings/{screening.pk}/hold/", {"mode": "seats", "seat": ids, **extra})


def held_by(client, screening: Screening, *labels: str) -> Hold:
    """Hold seats through the page, as the browser does; returns the hold it made."""
    response = hold_seats(client, screening, *labels)
    assert response.status_code == 302, response.content[:500]
    hold_id = response["Location"].rstrip("/").split("/")[-1]
    return Hold.objects.get(pk=hold_id)


def fill(screening: Screening, labels: list[str]) -> None:
    """Claim these seats with live holds of other buyers, ten at a time (the per-hold limit)."""
    for i in range(0, len(labels), 10):
        hold_create(
            screening_id=screening.pk,
            seat_ids=factories.seats(screening.auditorium, *labels[i : i + 10]),
            buyer_key=f"other-buyer-{i}",
        )


def html(response) -> str:
    return response.content.decode()


def html_lang(response) -> str:
    found = re.search(r'<html lang="([^"]*)"', html(response))
    assert found, html(response)[:300]
    return found.group(1)


def seat_input(response, seat: int) -> str:
    """The <input> tag of a seat on the seat map page."""
    found = re.search(
        rf'<input type="checkbox" class="seat-input"[^>]*id="seat-{seat}"[^>]*>',
        html(response),
        re.S,
    )
    assert found, f"seat {seat} is not on the page"
    return found.group(0)


def expire_hold(hold: Hold, ago: timedelta = timedelta(seconds=1)) -> None:
    from ticketing.inventory.models import SeatClaim

    past = timezone.now() - ago
    Hold.objects.filter(pk=hold.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=hold.pk).update(expires_at=past)


def done_order(url: str):
    """The id of the order a done page's URL names (its token carries the second it was made,
    so two tokens of one order need not be equal)."""
    from ticketing.orders.tickets import order_id_from_token

    prefix = "/checkout/done/"
    assert url.startswith(prefix) and url.endswith("/"), url
    return order_id_from_token(url[len(prefix) : -1])
