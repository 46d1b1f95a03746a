"""The admin site, asking for both factors.

`django.contrib.admin` is installed through `StaffAdminConfig`, so `admin.site` is a
`StaffAdminSite`: every admin page wants a session that passed the password and the code
(`user.is_verified()`, django-otp), unless `MARQUEE_STAFF_OTP` is off (development only). A
password-only session is sent to the sign-in, which is the staff one (`/admin/login/` redirects
to `/staff/login/`, ticketing/staff_login.py).
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class StaffAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        from . import access

        if not super().has_permission(request):
            return False
        return not access.otp_required() or bool(
            getattr(request.user, "is_verified", lambda: False)()
        )


class StaffAdminConfig(AdminConfig):
    default_site = "ticketing.staff.admin_site.StaffAdminSite"
