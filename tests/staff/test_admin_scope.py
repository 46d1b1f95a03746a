"""In the admin a staff member sees and changes their own cinemas' records only: another cinema's
are missing from every list, their pages are "not found", and a form cannot put a record into
another cinema. Superusers and head office see every cinema. Users show their role and cinemas,
and their cinemas are set through the staff service (audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from payments.models import Payment, Refund
from payments.refunds import refund_create
from tests import factories
from tests.flows.mass_cancel_support import paid_orders
from tests.screenings.test_admin import screening_form
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.audit.services import audit_record
from ticketing.inventory.allocations import allocation_create
from ticketing.inventory.models import Allocation, Hold, SeatClaim
from ticketing.orders.models import Order, Ticket
from ticketing.screenings.models import (
    Auditorium,
    Cinema,
    Screening,
    ScreeningPrice,
    Seat,
    TicketType,
)
from ticketing.staff import access, roles
from ticketing.staff.admin_scope import CINEMA_PATHS

pytestmark = pytest.mark.django_db

# The admin of each cinema-bound table, and how to find one cinema's records in it.
TABLES = {
    Cinema: "pk",
    Auditorium: "cinema",
    Seat: "auditorium__cinema",
    Screening: "auditorium__cinema",
    TicketType: "cinema",
    ScreeningPrice: "screening__auditorium__cinema",
    Order: "screening__auditorium__cinema",
    Ticket: "order__screening__auditorium__cinema",
    Hold: "screening__auditorium__cinema",
    SeatClaim: "screening__auditorium__cinema",
    Allocation: "screening__auditorium__cinema",
    Payment: "order__screening__auditorium__cinema",
    Refund: "payment__order__screening__auditorium__cinema",
    AuditEntry: "cinema",
}


def a_cinema_with_everything(partner):
    cinema = factories.cinema()
    room = factories.auditorium(cinema)
    show = factories.screening(room, starts_in=timedelta(days=3))
    ScreeningPrice.objects.create(
        screening=show, ticket_type=cinema.ticket_types.get(code="adult"), price=1000
    )
    (order,) = paid_orders(show, 1)
    refund_create(order_id=order.pk, actor="test", reason="scope test")
    factories.hold(show, "C1")
    allocation_create(
        screening_id=show.pk,
        partner=partner,
        release_at=timezone.now() + timedelta(days=1),
        quantity=2,
    )
    audit_record(action="test.done", summary="A change", cinema_id=cinema.pk)
    return cinema


@pytest.fixture
def world():
    partner, _ = factories.partner_with_key()
    return {"mine": a_cinema_with_everything(partner), "other": a_cinema_with_everything(partner)}


def records(model, cinema) -> set[int]:
    return set(model.objects.filter(**{TABLES[model]: cinema.pk}).values_list("pk", flat=True))


def admin_url(model, suffix="") -> str:
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/{suffix}"


def viewer(cinema):
    """A member of `cinema` allowed to look at every cinema-bound table."""
    user = staff_user(None, cinema)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=[f"view_{m._meta.model_name}" for m in TABLES])
    )
    return type(user).objects.get(pk=user.pk)


def listed(client, model) -> set[int]:
    response = client.get(admin_url(model))
    assert response.status_code == 200, model
    return {obj.pk for obj in response.context["cl"].queryset}


def test_every_cinema_bound_table_is_tested_and_known_to_the_choices():
    assert {m._meta.label_lower for m in TABLES} <= set(CINEMA_PATHS)


@pytest.mark.parametrize("model", list(TABLES), ids=lambda m: m.__name__)
def test_a_member_sees_only_their_cinemas_records_in_each_list(client, world, model):
    signed_in(client, viewer(world["mine"]))
    mine, other = records(model, world["mine"]), records(model, world["other"])
    assert mine and other, "the world has a record of each kind in each cinema"

    assert listed(client, model) == mine


@pytest.mark.parametrize("model", list(TABLES), ids=lambda m: m.__name__)
def test_another_cinemas_record_is_not_found_in_the_admin(client, world, model):
    signed_in(client, viewer(world["mine"]))
    theirs = min(records(model, world["other"]))
    ours = min(records(model, world["mine"]))

    response = client.get(admin_url(model, f"{theirs}/change/"))

    # Django's answer for a missing object: back to the admin's index, saying it does not exist.
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get(admin_url(model, f"{ours}/change/")).status_code == 200


@pytest.mark.parametrize("role", [roles.BOX_OFFICE, roles.MANAGER, roles.PARTNER_MANAGER])
def test_each_role_sees_its_cinemas_records_only_wherever_it_may_look(client, world, role):
    member = staff_user(role, world["mine"])
    signed_in(client, member)
    looked = 0
    for model in TABLES:
        if not member.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
            assert client.get(admin_url(model)).status_code == 403
            continue
        looked += 1
        assert listed(client, model) == records(model, world["mine"]), model
        theirs = min(records(model, world["other"]))
        assert client.get(admin_url(model, f"{theirs}/change/"))["Location"] == "/admin/"
    assert looked


def test_a_member_of_no_cinema_sees_no_records(client, world):
    user = viewer(world["mine"])
    user.staff_profile.cinemas.clear()  # the fixture's direct write: no service involved
    signed_in(client, type(user).objects.get(pk=user.pk))
    assert listed(client, Order) == set() and listed(client, Screening) == set()


def test_superusers_and_head_office_see_every_cinema(client, world, admin_client):
    everything = records(Order, world["mine"]) | records(Order, world["other"])
    assert listed(admin_client, Order) == everything
    head_office = staff_user(roles.MANAGER, all_cinemas=True)
    signed_in(client, head_office)
    assert listed(client, Order) == everything


# ---- writing --------------------------------------------------------------------------------
def new_screening(client, room, **extra):
    film = factories.film(runtime_minutes=90)
    response = client.post(
        admin_url(Screening, "add/"), screening_form(film, room, "2031-03-10", "20:00", **extra)
    )
    return response, Screening.objects.filter(film=film)


def test_a_manager_cannot_schedule_a_screening_in_another_cinemas_auditorium(client, world):
    signed_in(client, staff_user(roles.MANAGER, world["mine"]))
    their_room = world["other"].auditoriums.get()

    response, made = new_screening(client, their_room)

    assert response.status_code == 200 and not made.exists()
    assert "auditorium" in response.context["adminform"].form.errors
    choices = response.context["adminform"].form.fields["auditorium"].queryset
    assert set(choices) == set(world["mine"].auditoriums.all())


def test_a_manager_schedules_in_their_own_auditorium(client, world):
    signed_in(client, staff_user(roles.MANAGER, world["mine"]))
    response, made = new_screening(client, world["mine"].auditoriums.get())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert made.get().auditorium.cinema == world["mine"]


def test_a_manager_cannot_move_their_screening_into_another_cinema(client, world):
    signed_in(client, staff_user(roles.MANAGER, world["mine"]))
    room = factories.auditorium(world["mine"])
    show = factories.screening(room, starts_in=timedelta(days=9))  # nothing sold: movable
    local = show.starts_at.astimezone(world["mine"].tz)
    data = screening_form(
        show.film,
        world["other"].auditoriums.get(),
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M"),
        ends_at_0="",
        ends_at_1="",
    )

    response = client.post(admin_url(Screening, f"{show.pk}/change/"), data)

    assert response.status_code == 200
    show.refresh_from_db()
    assert show.auditorium == room


@pytest.mark.parametrize("page", ["add", "change"])
def test_the_ticket_types_offered_for_a_screenings_prices_are_the_members_cinemas(
    client, world, page
):
    signed_in(client, staff_user(roles.MANAGER, world["mine"]))
    show = Screening.objects.filter(auditorium__cinema=world["mine"]).first()
    response = client.get(admin_url(Screening, "add/" if page == "add" else f"{show.pk}/change/"))
    prices = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.model is ScreeningPrice
    )
    offered = set(prices.empty_form.fields["ticket_type"].queryset)
    assert offered == set(world["mine"].ticket_types.all())


# ---- users: role and cinemas ----------------------------------------------------------------
def test_the_user_admin_shows_each_members_role_and_cinemas(admin_client, world):
    staff_user(roles.BOX_OFFICE, world["mine"], username="clerk")
    page = admin_client.get("/admin/auth/user/").content.decode()
    assert "Box office" in page and world["mine"].name in page


def user_form(user, **extra):
    data = {
        "username": user.username,
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2030-01-01",
        "date_joined_1": "10:00:00",
        "groups": [g.pk for g in user.groups.all()],
    }
    data.update(extra)
    return data


def test_a_superuser_sets_a_members_cinemas_through_the_audited_service(admin_client, world):
    clerk = staff_user(roles.BOX_OFFICE, world["mine"], username="clerk")

    response = admin_client.post(
        f"/admin/auth/user/{clerk.pk}/change/",
        user_form(clerk, staff_cinemas=[world["mine"].pk, world["other"].pk]),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(access.cinemas_for(type(clerk).objects.get(pk=clerk.pk))) == {
        world["mine"],
        world["other"],
    }
    entry = AuditEntry.objects.get(action="staff.cinemas_set")
    assert entry.actor_name == "admin" and "clerk" in entry.summary


def test_saving_a_user_without_touching_their_cinemas_records_nothing(admin_client, world):
    clerk = staff_user(roles.BOX_OFFICE, world["mine"], username="clerk")
    admin_client.post(
        f"/admin/auth/user/{clerk.pk}/change/",
        user_form(clerk, staff_cinemas=[world["mine"].pk], first_name="Ada"),
    )
    assert not AuditEntry.objects.filter(action="staff.cinemas_set").exists()


def test_a_limited_editor_keeps_a_colleagues_other_cinemas_and_cannot_give_every_cinema(
    client, world
):
    editor = staff_user(roles.MANAGER, world["mine"])
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    signed_in(client, type(editor).objects.get(pk=editor.pk))
    colleague = staff_user(roles.BOX_OFFICE, world["other"], username="colleague")

    response = client.post(
        f"/admin/auth/user/{colleague.pk}/change/",
        user_form(colleague, staff_cinemas=[world["mine"].pk], staff_all_cinemas="on"),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    fresh = type(colleague).objects.get(pk=colleague.pk)
    assert set(access.cinemas_for(fresh)) == {world["mine"], world["other"]}
    assert access.cinema_ids_for(fresh) is not access.ALL


# ---- every admin ----------------------------------------------------------------------------
# Tables that point at a cinema-bound one but are chain-wide, and why.
CHAIN_WIDE = {
    # a partner's keys; a door scanner's key is narrowed to its cinema (test below)
    "partners.apikey": "a partner's keys; a door scanner's key names the cinema it works at",
}


def test_every_admin_of_a_cinema_bound_table_is_scoped():
    """A table with a foreign key to a cinema-bound one is cinema-bound too, unless said
    otherwise above: a new table's admin cannot forget the scope."""
    from django.contrib import admin

    from ticketing.staff.admin_scope import CinemaScopedAdmin, cinema_path_of

    unscoped = []
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        points_at_one = any(
            (f.many_to_one or f.one_to_one)
            and f.concrete
            and cinema_path_of(f.related_model) is not None
            for f in model._meta.get_fields()
        )
        if label in CHAIN_WIDE or not (points_at_one or label in CINEMA_PATHS):
            continue
        if not isinstance(model_admin, CinemaScopedAdmin) or label not in CINEMA_PATHS:
            unscoped.append(label)
        elif (model_admin.cinema_path or CINEMA_PATHS[label]) != CINEMA_PATHS[label]:
            unscoped.append(f"{label} (its cinema_path differs)")
    assert unscoped == []


def test_a_save_into_another_cinema_is_refused_even_past_the_forms_choices(rf, world):
    """The choices refuse first; the save refuses whatever a form let through."""
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied

    request = rf.post("/admin/screenings/screening/add/")
    request.user = staff_user(roles.MANAGER, world["mine"])

    class LaxForm:
        def save(self, commit=True):
            return Screening(auditorium=world["other"].auditoriums.get(), film=factories.film())

    with pytest.raises(PermissionDenied):
        admin.site._registry[Screening].save_form(request, LaxForm(), change=False)


# ---- a lost phone ---------------------------------------------------------------------------
def test_a_manager_removes_a_colleagues_lost_phone_and_sees_no_one_elses(client, world):
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.staff.support import totp_device

    manager = staff_user(roles.MANAGER, world["mine"])
    colleague = totp_device(staff_user(roles.BOX_OFFICE, world["mine"]))
    elsewhere = totp_device(staff_user(roles.BOX_OFFICE, world["other"]))
    both = totp_device(staff_user(roles.BOX_OFFICE, world["mine"], world["other"]))
    boss = totp_device(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    signed_in(client, manager)

    assert listed(client, TOTPDevice) == {colleague.pk, TOTPDevice.objects.get(user=manager).pk}
    for device in (elsewhere, both, boss):
        assert client.get(admin_url(TOTPDevice, f"{device.pk}/change/"))["Location"] == "/admin/"
    page = client.get(admin_url(TOTPDevice, f"{colleague.pk}/change/")).content.decode()
    assert colleague.key not in page  # nobody reads a key back

    response = client.post(admin_url(TOTPDevice, f"{colleague.pk}/delete/"), {"post": "yes"})

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=colleague.pk).exists()
    assert AuditEntry.objects.filter(action="staff.device_removed", actor_name=manager.username)


def test_a_member_sees_and_revokes_only_their_cinemas_door_scanners(client, world):
    from ticketing.checkin.services import scanner_create
    from ticketing.partners.models import ApiKey

    mine, _ = scanner_create(cinema=world["mine"], name="Door 1")
    theirs, _ = scanner_create(cinema=world["other"], name="Door 1")
    member = staff_user(roles.PARTNER_MANAGER, world["mine"])
    signed_in(client, member)

    shown = listed(client, ApiKey)
    assert mine.pk in shown and theirs.pk not in shown
    assert client.get(admin_url(ApiKey, f"{theirs.pk}/change/")).status_code in (302, 404)
    client.post(
        admin_url(ApiKey), {"action": "revoke_keys", "_selected_action": [theirs.pk, mine.pk]}
    )
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None
