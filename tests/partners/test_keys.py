"""A partner's API keys: several per partner, each stored hashed and shown once, with a visible
prefix, a name, scopes, its own rate and the time it was last used; made by the services or by
`manage.py create_partner`."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests import factories
from ticketing import errors
from ticketing.partners.models import ApiKey, Partner, Scope
from ticketing.partners.services import (
    api_key_check,
    api_key_create,
    api_key_update,
    forget_cached_keys,
)

pytestmark = pytest.mark.django_db


def test_the_scopes_are_the_six_the_design_names():
    assert {"read", "book", "settle", "campaigns", "reports", "webhooks"} <= set(Scope.values)


def test_a_key_is_stored_as_its_hash_with_a_visible_prefix_and_shown_only_once(partner_key):
    partner, first_raw = partner_key
    key, raw = api_key_create(partner=partner, name="box office", scopes=["read"])

    assert raw.startswith(f"mq_{key.prefix}_") and raw != first_raw
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    secret = raw.split("_", 2)[2]
    assert all(secret not in str(value) for value in vars(stored).values())
    assert (stored.name, stored.scopes) == ("box office", ["read"])


def test_a_partner_has_several_keys_each_with_its_own_name_scopes_and_rate(partner_key):
    partner, _ = partner_key
    _, shop_raw = api_key_create(partner=partner, name="web shop", scopes=["book", "read"])
    reports, reports_raw = api_key_create(
        partner=partner, name="reporting", scopes=["reports"], rate_per_minute=30
    )

    assert partner.api_keys.count() == 3
    assert api_key_check(shop_raw).scopes == ["read", "book"]  # stored in Scope's order
    checked = api_key_check(reports_raw)
    assert (checked.pk, checked.name, checked.rate_per_minute) == (reports.pk, "reporting", 30)
    assert checked.partner == partner


def test_an_unknown_scope_is_refused_and_no_key_is_made(partner_key):
    partner, _ = partner_key
    with pytest.raises(errors.InvalidRequest) as refused:
        api_key_create(partner=partner, name="x", scopes=["read", "everything"])
    assert refused.value.details == {"scopes": ["everything"]}
    assert partner.api_keys.count() == 1


def test_a_key_records_when_it_was_last_used_without_a_write_per_call(partner_key, screening):
    partner, raw = partner_key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert ApiKey.objects.get(partner=partner).last_used_at is None

    assert client.get("/api/v1/films/").status_code == 200
    first = ApiKey.objects.get(partner=partner).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)

    with CaptureQueriesContext(connection) as queries:
        assert api_key_check(raw) is not None
    assert len(queries) == 0, [q["sql"] for q in queries]  # remembered, and used just now
    assert ApiKey.objects.get(partner=partner).last_used_at == first


def test_use_after_a_few_minutes_moves_last_used_on(partner_key):
    partner, raw = partner_key
    long_ago = timezone.now() - timedelta(hours=1)
    ApiKey.objects.filter(partner=partner).update(last_used_at=long_ago)

    api_key_check(raw)

    assert ApiKey.objects.get(partner=partner).last_used_at > long_ago


def test_changing_a_keys_scopes_takes_effect_at_the_next_call(partner_key):
    _, raw = partner_key
    key = api_key_check(raw)
    assert "settle" not in key.scopes

    api_key_update(key=key, name="till", scopes=["read", "book", "settle"], rate_per_minute=5)

    forget_cached_keys()  # as on another server
    again = api_key_check(raw)
    assert (again.name, again.scopes, again.rate_per_minute) == (
        "till",
        ["read", "book", "settle"],
        5,
    )


# ---- manage.py create_partner ----------------------------------------------------------------
def create_partner(*args) -> str:
    out = StringIO()
    call_command("create_partner", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_create_partner_prints_a_working_key_with_its_name_and_scopes():
    raw = create_partner("Acme Tickets", "--scopes", "read,book,settle", "--key-name", "till")

    key = api_key_check(raw)
    assert key.partner.name == "Acme Tickets"
    assert (key.name, key.scopes) == ("till", ["read", "book", "settle"])


def test_create_partner_new_key_adds_a_key_with_its_own_rate():
    first = create_partner("Acme Tickets")
    second = create_partner(
        "Acme Tickets", "--new-key", "--key-name", "reports", "--scopes", "reports",
        "--rate-per-minute", "60",
    )  # fmt: skip

    partner = Partner.objects.get(name="Acme Tickets")
    assert partner.api_keys.count() == 2
    assert api_key_check(first).name == "default"
    key = api_key_check(second)
    assert (key.name, key.scopes, key.rate_per_minute) == ("reports", ["reports"], 60)


@pytest.mark.parametrize(
    "args",
    [
        ("Acme", "--scopes", "read,admin"),
        ("Acme", "--rate-per-minute", "0"),
    ],
)
def test_create_partner_refuses_bad_scopes_and_rates_and_makes_nothing(args):
    with pytest.raises(CommandError):
        create_partner(*args)
    assert not Partner.objects.filter(name="Acme").exists()


def test_create_partner_refuses_an_existing_name_without_new_key_and_a_deactivated_partner():
    partner, _ = factories.partner_with_key(name="Acme")
    with pytest.raises(CommandError, match="--new-key"):
        create_partner("Acme")
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        create_partner("Acme", "--new-key")
    assert partner.api_keys.count() == 1
