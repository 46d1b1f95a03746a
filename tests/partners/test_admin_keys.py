"""Staff manage keys in the admin: a key is added with a name and scopes and shown once, on the
page answering the form; a live key's scopes and rate can change, a revoked one cannot; every
change is seen at once by every server."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.utils import timezone

from tests import factories
from ticketing.partners import services
from ticketing.partners.models import ApiKey, Partner
from ticketing.partners.services import api_key_check, forget_cached_keys

pytestmark = pytest.mark.django_db

ADD = "/admin/partners/apikey/add/"


def add_key(admin_client, partner, **fields):
    data = {"partner": partner.pk, "name": "web shop", "scopes": ["read", "book"], **fields}
    return admin_client.post(ADD, {k: v for k, v in data.items() if v is not None})


def shown_key(response) -> str:
    page = response.content.decode()
    start = page.index('value="mq_') + len('value="')
    return page[start : page.index('"', start)]


def test_staff_add_a_key_with_a_name_and_scopes_and_see_it_once(admin_client, partner_key):
    partner, _ = partner_key
    assert admin_client.get(f"{ADD}?partner={partner.pk}").status_code == 200

    response = add_key(admin_client, partner, scopes=["read", "reports"], rate_per_minute=120)

    assert response.status_code == 200, response.content.decode()[:2000]
    assert "no-store" in response["Cache-Control"]
    raw = shown_key(response)
    key = api_key_check(raw)
    assert (key.partner, key.name, key.scopes, key.rate_per_minute) == (
        partner,
        "web shop",
        ["read", "reports"],
        120,
    )
    assert LogEntry.objects.filter(object_id=str(key.pk), action_flag=ADDITION).exists()
    secret = raw.split("_", 2)[2]
    for page in (
        f"/admin/partners/apikey/{key.pk}/change/",
        "/admin/partners/apikey/",
        f"/admin/partners/partner/{partner.pk}/change/",
    ):
        content = admin_client.get(page).content.decode()
        assert f"mq_{key.prefix}_" in content and secret not in content, page


@pytest.mark.parametrize(
    "fields",
    [{"scopes": []}, {"scopes": ["admin"]}, {"name": ""}, {"rate_per_minute": 0}],
)
def test_the_add_form_refuses_what_makes_no_key(admin_client, partner_key, fields):
    partner, _ = partner_key
    response = add_key(admin_client, partner, **fields)
    assert response.status_code == 200
    assert 'value="mq_' not in response.content.decode()
    assert partner.api_keys.count() == 1


def test_no_key_is_added_for_a_deactivated_partner(admin_client, partner_key):
    partner, _ = partner_key
    Partner.objects.filter(pk=partner.pk).update(is_active=False)
    add_key(admin_client, partner)
    assert partner.api_keys.count() == 1


def test_staff_change_a_keys_scopes_and_every_server_sees_it(admin_client, partner_key):
    _, raw = partner_key
    key = api_key_check(raw)

    response = admin_client.post(
        f"/admin/partners/apikey/{key.pk}/change/",
        {"name": "till", "scopes": ["read", "book", "settle"], "rate_per_minute": "30"},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    forget_cached_keys()  # as on another server
    again = api_key_check(raw)
    assert (again.name, again.scopes, again.rate_per_minute) == (
        "till",
        ["read", "book", "settle"],
        30,
    )
    assert again.prefix == key.prefix and again.key_hash == key.key_hash


def test_a_revoked_key_is_shown_but_cannot_be_changed(admin_client, partner_key):
    partner, _ = partner_key
    key = partner.api_keys.get()
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    url = f"/admin/partners/apikey/{key.pk}/change/"

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"name": "x", "scopes": ["read"]}).status_code == 403
    assert ApiKey.objects.get(pk=key.pk).scopes == key.scopes


@pytest.mark.django_db(transaction=True)
def test_a_partner_edited_in_the_admin_is_seen_at_once_by_a_server_that_remembered_its_key(
    admin_client,
):
    partner, raw = factories.partner_with_key()
    forget_cached_keys()
    api_key_check(raw)
    other_server = dict(services._memo)

    response = admin_client.post(
        f"/admin/partners/partner/{partner.pk}/change/",
        {
            "name": partner.name,
            "kind": partner.kind,
            "commission_bps": "850",
            "is_active": "on",
            "api_keys-TOTAL_FORMS": "1",
            "api_keys-INITIAL_FORMS": "1",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    forget_cached_keys()
    services._memo.update(other_server)
    assert api_key_check(raw).partner.commission_bps == 850
