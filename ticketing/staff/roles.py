"""The roles staff are given, as Django groups. The code is the source of truth: after every
migrate the groups are made to hold exactly these permissions (staff can add more groups of their
own in the admin; those are left alone).

A role says what; `StaffProfile.cinemas` says where.
"""

from __future__ import annotations

BOX_OFFICE = "Box office"
MANAGER = "Manager"
PARTNER_MANAGER = "Partner manager"

_BOX_OFFICE = [
    "staff.checkin_tickets",
    "staff.look_up_orders",
    "staff.resend_confirmation",
    "orders.view_order",
    "orders.view_ticket",
    "screenings.view_screening",
    "screenings.view_film",
]
_MANAGER = [
    *_BOX_OFFICE,
    "staff.view_dashboard",
    "staff.plan_schedule",
    "staff.edit_layouts",
    "staff.cancel_screenings",
    "staff.refund_orders",
    "staff.export_data",
    "staff.view_audit",
    "screenings.add_screening",
    "screenings.change_screening",
    "screenings.view_cinema",
    "screenings.view_auditorium",
    "screenings.change_auditorium",
    "screenings.view_seat",
    "screenings.add_film",
    "screenings.change_film",
    "screenings.view_tickettype",
    "screenings.add_tickettype",
    "screenings.change_tickettype",
    "screenings.view_screeningprice",
    "screenings.add_screeningprice",
    "screenings.change_screeningprice",
    "screenings.delete_screeningprice",
    "screenings.view_seattypesurcharge",
    "screenings.add_seattypesurcharge",
    "screenings.change_seattypesurcharge",
    "payments.view_payment",
    "payments.view_refund",
    "audit.view_auditentry",
    # A lost phone: remove a colleague's authenticator and backup codes (staff/admin.py).
    "otp_totp.view_totpdevice",
    "otp_totp.delete_totpdevice",
    "otp_static.view_staticdevice",
    "otp_static.delete_staticdevice",
]
_PARTNER_MANAGER = [
    "staff.manage_partners",
    "staff.view_dashboard",
    "partners.view_partner",
    "partners.add_partner",
    "partners.change_partner",
    "partners.view_apikey",
    "partners.add_apikey",
    "partners.change_apikey",
    "promotions.view_campaign",
    "promotions.add_campaign",
    "promotions.change_campaign",
    "promotions.view_promocode",
    "promotions.add_promocode",
    "promotions.change_promocode",
    "inventory.view_allocation",
    "inventory.add_allocation",
    "inventory.change_allocation",
    "webhooks.view_webhookendpoint",
    "screenings.view_screening",
    "screenings.view_film",
]

ROLES: dict[str, list[str]] = {
    BOX_OFFICE: _BOX_OFFICE,
    MANAGER: _MANAGER,
    PARTNER_MANAGER: _PARTNER_MANAGER,
}


def roles_sync() -> None:
    """Make each role's group hold exactly its permissions (those that exist in this install)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    for name, perms in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q(pk__in=[])
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


def sync_after_migrate(sender, using="default", **kwargs) -> None:
    roles_sync()
