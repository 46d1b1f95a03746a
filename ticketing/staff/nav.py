"""The staff menu: the pages a member's role lets them open."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

# (label, url name, permission)
PAGES = [
    ("Orders", "staff:orders", "staff.look_up_orders"),
    ("Dashboard", "staff:dashboard", "staff.view_dashboard"),
    ("Onsales", "staff:onsales", "staff.view_dashboard"),
    ("Door", "staff:door", "staff.checkin_tickets"),
    ("Schedule", "staff:schedule", "staff.plan_schedule"),
    ("Seat layouts", "staff:layouts", "staff.edit_layouts"),
    ("Cancellations", "staff:cancellations", "staff.cancel_screenings"),
    ("Exports", "staff:exports", "staff.export_data"),
    ("Audit log", "staff:audit", "staff.view_audit"),
]


def pages_for(user) -> list[dict]:
    pages = []
    for label, name, perm in PAGES:
        if not user.has_perm(perm):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a page not built yet
            continue
        pages.append({"label": label, "url": url, "name": name})
    return pages


def staff_nav(request) -> dict:
    """Context processor: the menu, on staff pages only."""
    if not request.path.startswith("/staff/") or not request.user.is_authenticated:
        return {}
    return {"staff_pages": pages_for(request.user)}
