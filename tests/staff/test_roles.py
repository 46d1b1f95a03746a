"""Each role opens its own staff pages and is refused the others (403); the menu offers exactly
the pages it opens. Pages not built yet are skipped (their URL does not reverse), so this grows
as pages land."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.staff import nav, roles

pytestmark = pytest.mark.django_db

ROLES = [roles.BOX_OFFICE, roles.MANAGER, roles.PARTNER_MANAGER, None]


def built_pages():
    for label, name, perm in nav.PAGES:
        try:
            yield label, reverse(name), perm
        except NoReverseMatch:
            continue


def may(role, perm: str) -> bool:
    return perm in roles.ROLES.get(role, [])


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no role")
def test_each_role_opens_its_pages_and_is_refused_the_others(client, role):
    signed_in(client, staff_user(role, factories.cinema()))
    answers = {label: client.get(url).status_code for label, url, _ in built_pages()}
    expected = {label: 200 if may(role, perm) else 403 for label, _, perm in built_pages()}
    assert answers == expected


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no role")
def test_the_menu_offers_exactly_the_pages_a_role_opens(role):
    user = staff_user(role, factories.cinema())
    offered = {page["label"] for page in nav.pages_for(user)}
    assert offered == {label for label, _, perm in built_pages() if may(role, perm)}


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no role")
def test_every_staff_member_has_a_home_page(client, role):
    signed_in(client, staff_user(role, factories.cinema()))
    response = client.get("/staff/")
    assert response.status_code in (200, 302)  # 302: straight to a role's only page
    if response.status_code == 302:
        assert [url for _, url, perm in built_pages() if may(role, perm)] == [response["Location"]]


def test_a_member_with_no_role_is_told_to_ask_for_one(client):
    signed_in(client, staff_user(None, factories.cinema()))
    assert "Ask a manager to give you a role" in client.get("/staff/").content.decode()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no role")
def test_no_role_can_open_a_staff_page_with_a_password_alone(client, role):
    client.force_login(staff_user(role, factories.cinema()))
    for _, url, _ in built_pages():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")


def test_the_roles_say_what_each_may_do():
    """The table of docs/staff.md, "Roles", as the code has it."""
    box_office, manager, partners = (
        set(roles.ROLES[r]) for r in (roles.BOX_OFFICE, roles.MANAGER, roles.PARTNER_MANAGER)
    )
    assert {"staff.checkin_tickets", "staff.look_up_orders", "staff.resend_confirmation"} <= (
        box_office
    )
    assert not {"staff.refund_orders", "staff.cancel_screenings", "staff.plan_schedule"} & (
        box_office
    )
    assert box_office <= manager  # a manager can do the box office's work too
    assert {
        "staff.plan_schedule",
        "staff.refund_orders",
        "staff.cancel_screenings",
        "screenings.change_screeningprice",
    } <= manager
    assert "staff.manage_partners" not in manager
    assert {"staff.manage_partners", "promotions.change_campaign", "inventory.add_allocation"} <= (
        partners
    )
    assert not {"staff.refund_orders", "staff.checkin_tickets"} & partners


def test_the_campaign_report_is_for_the_partner_manager(client):
    signed_in(client, staff_user(roles.MANAGER, factories.cinema()))
    assert client.get("/staff/campaigns/999999/report/").status_code == 403
    signed_in(client, staff_user(roles.PARTNER_MANAGER, factories.cinema()))
    assert client.get("/staff/campaigns/999999/report/").status_code == 404  # past the check
