"""A partner is deactivated, never deleted (issue 9, hole 8): deleting one left its orders
ownerless, their commission and settlement attributable to nobody."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError

from tests import factories
from tests.staff.support import signed_in
from ticketing.partners.models import ApiKey, Partner
from ticketing.partners.services import partner_deactivate

pytestmark = pytest.mark.django_db


def test_a_deactivated_partner_keeps_its_orders_and_its_keys_stop_working(api, screening):
    partner = api.partner
    factories.pending_order(screening, "A1", partner=partner)
    assert api.get("/api/v1/films/").status_code == 200

    revoked = partner_deactivate(partner=partner)

    assert revoked == 1
    assert not Partner.objects.get(pk=partner.pk).is_active
    assert ApiKey.objects.get(partner=partner).revoked_at is not None
    assert api.post("/api/v1/holds/", {}, format="json").status_code == 401
    assert partner.orders.count() == 1


def test_a_partner_with_orders_cannot_be_deleted_even_by_code(api, screening):
    factories.pending_order(screening, "A1", partner=api.partner)
    with pytest.raises(ProtectedError):
        api.partner.delete()


def test_the_admin_offers_deactivation_not_deletion(client, partner_key):
    partner, _ = partner_key
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    signed_in(client, admin)

    listing = client.get("/admin/partners/partner/")
    assert b"deactivate_partners" in listing.content
    assert b'value="delete_selected"' not in listing.content
    assert client.get(f"/admin/partners/partner/{partner.pk}/delete/").status_code == 403

    client.post(
        "/admin/partners/partner/",
        {"action": "deactivate_partners", "_selected_action": [partner.pk]},
    )
    assert not Partner.objects.get(pk=partner.pk).is_active
