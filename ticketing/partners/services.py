"""Partners and their API keys. A key is shown once, when made; only its hash is kept.

Checking a key is the hot path of every partner call, so what was learnt of a key is remembered:
in this process, and in Redis for the other processes. Both are stamped with the keys version, a
random token in Redis replaced whenever a key or a partner changes (revoked, deactivated,
edited). A remembered key counts only while its stamp is the current version, so a revocation
takes effect at once on every server; a check asks Redis once (the version, plus the key's entry
when this process does not remember the key). With Redis away nothing remembered can be
validated, so the database answers: never a stale yes.

A random token rather than a counter: a Redis that restarts empty and counts again from 1 could
bring an old stamp back to life; a token never comes back. A server that could not reach Redis
(to check a key, or to renew the version after a change) renews the version as soon as it can
again, since a change may have gone unannounced meanwhile. What stays open is a change made by a
server that cannot reach Redis while others can and none of them loses Redis: they accept what
they remembered for up to KEY_CACHE_SECONDS after they learnt it (docs/operations.md, "Partners").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ticketing import cache, errors

from .models import DEFAULT_SCOPES, ApiKey, Partner, PartnerKind, Scope

LAST_USED_RESOLUTION = timedelta(minutes=5)
KEY_CACHE_SECONDS = 30
DEFAULT_KEY_NAME = "default"
HOUSE_PARTNER = "Door scanners"  # owns the cinemas' scanner keys (`create_scanner`)
VERSION_KEY = "partners:keys-version"
_MEMO_MAX = 10_000
# digest -> (key, version it was learnt under, wall-clock time it stops counting)
_memo: dict[str, tuple[ApiKey, str, float]] = {}
_renewal_owed = False  # Redis was away here: a change may have gone unannounced


def hash_key(raw: str) -> str:
    # Keys carry 190+ bits of randomness, so a fast hash is enough: no dictionary to attack.
    return hashlib.sha256(raw.encode()).hexdigest()


def scopes_check(scopes) -> list[str]:
    """The scopes as stored: known ones only, each once, in `Scope`'s order."""
    wanted = {str(s) for s in scopes}
    unknown = wanted - set(Scope.values)
    if unknown:
        raise errors.InvalidRequest(
            f"Unknown scopes: {', '.join(sorted(unknown))}.", scopes=sorted(unknown)
        )
    return [s for s in Scope.values if s in wanted]


def scopes_for_cinema(scopes: list[str], *, cinema_id: int | None) -> list[str]:
    """A door scanner's key (bound to one cinema) has the `checkin` scope and no other, and only
    such a key has it: a partner's key never checks tickets in, a lost phone never books."""
    if cinema_id is not None and scopes != [Scope.CHECKIN.value]:
        raise errors.InvalidRequest(
            "A key bound to a cinema is a door scanner's: its only scope is 'checkin'.",
            scopes=scopes,
        )
    if cinema_id is None and Scope.CHECKIN.value in scopes:
        raise errors.InvalidRequest(
            "The 'checkin' scope is for door scanners, bound to one cinema "
            "(python manage.py create_scanner CINEMA).",
            scopes=scopes,
        )
    return scopes


@transaction.atomic
def api_key_create(
    *,
    partner: Partner,
    name: str = DEFAULT_KEY_NAME,
    scopes: list[str] | None = None,
    rate_per_minute: int | None = None,
    cinema_id: int | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the raw key, which is never stored."""
    prefix = secrets.token_hex(4)
    raw = f"mq_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        partner=partner,
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw),
        scopes=scopes_for_cinema(scopes_check(scopes or DEFAULT_SCOPES), cinema_id=cinema_id),
        rate_per_minute=rate_per_minute,
        cinema_id=cinema_id,
    )
    return key, raw


@transaction.atomic
def house_partner() -> Partner:
    """The partner that owns the cinemas' own device keys: not a business, never a campaign's
    (its kind is neither studio nor platform), deactivating it stops every scanner at once."""
    partner, _ = Partner.objects.get_or_create(
        name=HOUSE_PARTNER,
        defaults={"kind": PartnerKind.HOUSE, "webhook_secret": secrets.token_hex(32)},
    )
    return partner


@transaction.atomic
def partner_create(
    *,
    name: str,
    kind: str = PartnerKind.PLATFORM,
    scopes: list[str] | None = None,
    key_name: str = DEFAULT_KEY_NAME,
    rate_per_minute: int | None = None,
) -> tuple[Partner, str]:
    """A partner with its first key; returns the partner and the raw key."""
    partner = Partner.objects.create(name=name, kind=kind, webhook_secret=secrets.token_hex(32))
    _, raw = api_key_create(
        partner=partner, name=key_name, scopes=scopes, rate_per_minute=rate_per_minute
    )
    return partner, raw


@transaction.atomic
def api_key_update(
    *, key: ApiKey, name: str, scopes: list[str], rate_per_minute: int | None
) -> bool:
    """Rename a live key, change its scopes or its rate; every server sees it at once. A revoked
    key stays as it was revoked. Returns whether the key was live."""
    changed = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        name=name,
        scopes=scopes_for_cinema(scopes_check(scopes), cinema_id=key.cinema_id),
        rate_per_minute=rate_per_minute,
    )
    api_keys_invalidate(key_hashes=[key.key_hash])
    return bool(changed)


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> bool:
    """Refuse the key from now on, on every server. Returns whether it was live."""
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    api_keys_invalidate(key_hashes=[key.key_hash])
    return bool(revoked)


@transaction.atomic
def partner_deactivate(*, partner: Partner) -> int:
    """Stop a partner: every key refused at once, on every server, its orders and holds kept
    with their owner. A partner is never deleted: its orders, commissions and settlements must
    stay attributable. Returns the keys revoked."""
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    revoked = ApiKey.objects.filter(partner=partner, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    partner_keys_invalidate(partner=partner)
    partner.is_active = False
    return revoked


def api_keys_invalidate(*, key_hashes: Iterable[str]) -> None:
    """Every server forgets these keys (and their partner, which rides along): their entries
    in Redis and this process's memo now, every other process's memo when the change commits,
    by a new version. Renewed before the commit, the version would let a server learn the old
    row again under it."""
    for digest in key_hashes:
        _memo.pop(digest, None)
        cache.delete(_entry_key(digest))
    transaction.on_commit(_version_renew)


def partner_keys_invalidate(*, partner: Partner) -> None:
    """After a change to the partner itself (deactivated, its commission edited): checked keys
    carry it, so every server learns it anew."""
    api_keys_invalidate(
        key_hashes=ApiKey.objects.filter(partner=partner).values_list("key_hash", flat=True)
    )


def _version_renew() -> str:
    global _renewal_owed
    version = secrets.token_hex(8)
    cache.set(VERSION_KEY, version, None)
    # Rare enough to look whether it took: if not, renew again once Redis answers.
    _renewal_owed = cache.get_many([VERSION_KEY]) != {VERSION_KEY: version}
    return version


def _redis_away() -> None:
    global _renewal_owed
    _renewal_owed = True
    forget_cached_keys()


def _entry_key(digest: str) -> str:
    return f"partners:key:{digest}"


def api_key_check(raw: str) -> ApiKey | None:
    """The live key matching `raw`, or None. Compared in constant time.

    One Redis round trip when the key is remembered (here or in Redis) under the current
    version, a database query otherwise; unknown keys are never remembered."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != "mq" or not parts[1]:
        return None
    digest = hash_key(raw)
    now = time.time()
    memo = _memo.get(digest)
    if memo is not None and memo[2] <= now:
        memo = None
    entry_key = _entry_key(digest)
    found = cache.get_many([VERSION_KEY] if memo else [VERSION_KEY, entry_key])
    if found is None:  # Redis is away: nothing remembered can be validated
        _redis_away()
        return _note_use(_key_from_database(parts[1], digest))
    version = found.get(VERSION_KEY)
    if version is None or _renewal_owed:
        # Never set, lost by Redis, or changes may have gone unannounced: a new version makes
        # every old stamp stale.
        version = _version_renew()
    elif memo is not None and memo[1] == version:
        return _note_use(memo[0])
    else:
        entry = found.get(entry_key)
        if entry is not None and entry[0] == version:
            _remember(digest, entry[1], version, entry[2])
            return _note_use(entry[1])
    # Read after the version: a revocation committed later renews it, and this stamp is stale.
    key = _note_use(_key_from_database(parts[1], digest))
    if key is None:
        _memo.pop(digest, None)
        return None
    cache.set(entry_key, (version, key, now + KEY_CACHE_SECONDS), KEY_CACHE_SECONDS)
    _remember(digest, key, version, now + KEY_CACHE_SECONDS)
    return key


def _key_from_database(prefix: str, digest: str) -> ApiKey | None:
    key = (
        ApiKey.objects.select_related("partner")
        .filter(prefix=prefix, revoked_at__isnull=True, partner__is_active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    return key


def _remember(digest: str, key: ApiKey, version: str, until: float) -> None:
    if len(_memo) >= _MEMO_MAX:
        _memo.clear()
    _memo[digest] = (key, version, until)


def _note_use(key: ApiKey | None) -> ApiKey | None:
    """Coarse on purpose: one write per key and process every few minutes, not one per call."""
    if key is None:
        return None
    used = timezone.now()
    if key.last_used_at is None or used - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=used - LAST_USED_RESOLUTION),
            pk=key.pk,
        ).update(last_used_at=used)
        key.last_used_at = used
    return key


def forget_cached_keys() -> None:
    """Forget the keys this process remembers (a server just started is like this)."""
    _memo.clear()
