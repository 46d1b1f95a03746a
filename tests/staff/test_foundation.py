"""The staff pages' ground rules: both factors to enter, a role's pages only, one's own cinemas."""

import pytest
from django.contrib.auth.models import Group

from tests import factories
from tests.staff.support import signed_in, staff_user
from ticketing.staff import access, roles

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_holding_its_permissions_after_migrate():
    roles.roles_sync()
    for name, perms in roles.ROLES.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == set(perms), name


def test_a_member_sees_only_the_cinemas_they_work_for():
    mine, other = factories.cinema(), factories.cinema()
    user = staff_user(roles.MANAGER, mine)
    assert list(access.cinemas_for(user)) == [mine]
    assert access.may_see_cinema(user, mine.pk) and not access.may_see_cinema(user, other.pk)


def test_head_office_sees_every_cinema():
    factories.cinema(), factories.cinema()
    user = staff_user(roles.MANAGER, all_cinemas=True)
    assert access.cinema_ids_for(user) is access.ALL


def test_the_staff_home_wants_both_factors(client):
    user = staff_user(roles.MANAGER, factories.cinema())
    client.force_login(user)  # a password, no second factor
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
    signed_in(client, user)
    assert client.get("/staff/").status_code == 200


def test_a_customer_account_is_sent_to_the_staff_sign_in(client, django_user_model):
    user = django_user_model.objects.create_user("buyer", password="x")
    client.force_login(user)
    response = client.get("/staff/")
    assert response.status_code == 302
