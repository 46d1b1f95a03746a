"""The audit log as staff search it: narrowed to the member's cinemas, newest first.

Entries of a cinema are seen by its staff; entries of no cinema (chain-wide: a member's
cinemas changed, a head-office setting) only by head office (`all_cinemas`) and superusers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from ticketing.audit.models import AuditEntry

from .access import ALL, cinema_ids_for

CHAIN = "chain"  # the cinema filter's value for entries of no cinema
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class AuditFilters:
    text: str = ""
    action: str = ""
    who: str = ""
    starts: date | None = None
    ends: date | None = None  # included
    cinema: str = ""  # a cinema's id, CHAIN, or "" for every cinema the member sees
    tz: ZoneInfo = UTC_ZONE  # the zone the days are read in


def visible_entries(user) -> QuerySet[AuditEntry]:
    ids = cinema_ids_for(user)
    entries = AuditEntry.objects.select_related("cinema")
    return entries if ids is ALL else entries.filter(cinema_id__in=ids)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def audit_search(*, user, filters: AuditFilters) -> QuerySet[AuditEntry]:
    entries = visible_entries(user)
    if filters.text:
        text = filters.text
        entries = entries.filter(
            Q(summary__icontains=text)
            | Q(object_id__iexact=text)
            | Q(action__icontains=text)
            | Q(actor_name__icontains=text)
            | Q(object_type__iexact=text)
        )
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.who:
        # Entries that kept no name (an admin action that gave only `user:ID`) by the username.
        users = get_user_model().objects.filter(username__icontains=filters.who)
        actors = [f"user:{pk}" for pk in users.values_list("pk", flat=True)[:100]]
        entries = entries.filter(
            Q(actor_name__icontains=filters.who) | Q(actor=filters.who) | Q(actor__in=actors)
        )
    if filters.starts:
        entries = entries.filter(at__gte=_midnight(filters.starts, filters.tz))
    if filters.ends:
        entries = entries.filter(at__lt=_midnight(filters.ends + timedelta(days=1), filters.tz))
    if filters.cinema == CHAIN:
        entries = entries.filter(cinema__isnull=True)
    elif filters.cinema:
        entries = entries.filter(cinema_id=filters.cinema)
    return entries.order_by("-at", "-id")


def actions_seen(user) -> list[str]:
    """The actions in the member's part of the log, for the filter's choices."""
    return sorted(visible_entries(user).order_by().values_list("action", flat=True).distinct())


def names_of_actors(entries) -> dict[str, str]:
    """Usernames of `user:ID` actors whose entries did not keep a name, in one query."""
    ids = {
        int(e.actor.split(":", 1)[1])
        for e in entries
        if not e.actor_name and e.actor.startswith("user:") and e.actor[5:].isdigit()
    }
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {f"user:{u.pk}": u.get_username() for u in users}
