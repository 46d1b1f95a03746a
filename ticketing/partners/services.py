"""Partners and their API keys. A key is shown once, when made; only its hash is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import DEFAULT_SCOPES, ApiKey, Partner, PartnerKind

LAST_USED_RESOLUTION = timedelta(minutes=5)
KEY_CACHE_SECONDS = 10
_recent: dict[str, tuple[ApiKey, float]] = {}


def hash_key(raw: str) -> str:
    # Keys carry 190+ bits of randomness, so a fast hash is enough: no dictionary to attack.
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, partner: Partner, scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the raw key, which is never stored."""
    prefix = secrets.token_hex(4)
    raw = f"mq_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        partner=partner,
        prefix=prefix,
        key_hash=hash_key(raw),
        scopes=scopes or list(DEFAULT_SCOPES),
    )
    return key, raw


@transaction.atomic
def partner_create(
    *, name: str, kind: str = PartnerKind.PLATFORM, scopes: list[str] | None = None
) -> tuple[Partner, str]:
    partner = Partner.objects.create(name=name, kind=kind, webhook_secret=secrets.token_hex(32))
    _, raw = api_key_create(partner=partner, scopes=scopes)
    return partner, raw


def api_key_revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    forget_cached_keys()


@transaction.atomic
def partner_deactivate(*, partner: Partner) -> int:
    """Stop a partner: every key refused at once (here; other servers within the key cache
    time), its orders and holds kept with their owner. A partner is never deleted: its orders,
    commissions and settlements must stay attributable. Returns the keys revoked."""
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    revoked = ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    forget_cached_keys()
    partner.is_active = False
    return revoked


def api_key_check(raw: str) -> ApiKey | None:
    """The live key matching `raw`, or None. Compared in constant time.

    Answers are remembered in this process for KEY_CACHE_SECONDS: partner calls are the hot
    path, and a revocation made elsewhere takes effect within that time (at once here)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "mq":
        return None
    digest = hash_key(raw)
    now = time.monotonic()
    cached = _recent.get(digest)
    if cached is not None and cached[1] > now:
        return cached[0]
    key = (
        ApiKey.objects.select_related("partner")
        .filter(prefix=parts[1], revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    used = timezone.now()
    if key.last_used_at is None or used - key.last_used_at > LAST_USED_RESOLUTION:
        # Coarse on purpose: one write per key every few minutes, not one per request.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=used)
        key.last_used_at = used
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[digest] = (key, now + KEY_CACHE_SECONDS)
    return key


def forget_cached_keys() -> None:
    _recent.clear()
