"""The audit log's one writer."""

from __future__ import annotations

from typing import Any

from .models import AuditEntry


def actor_of(user) -> tuple[str, str]:
    """The (actor, actor_name) pair for a signed-in person, or for nobody (the system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "system", ""
    return f"user:{user.pk}", user.get_username()


def audit_record(
    *,
    action: str,
    summary: str,
    user=None,
    actor: str = "",
    actor_name: str = "",
    cinema_id: int | None = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Record a change. Call it inside the transaction that makes the change, so the entry and
    the change commit (or roll back) together. `user` (a signed-in person) or `actor` names who."""
    if not actor:
        actor, actor_name = actor_of(user)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEntry.objects.create(
        action=action,
        summary=summary[:300],
        actor=actor[:80],
        actor_name=(actor_name or "")[:150],
        cinema_id=cinema_id,
        object_type=object_type[:40],
        object_id=str(object_id)[:64],
        changes=_jsonable(changes or {}),
    )


def changes_between(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value differs."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
