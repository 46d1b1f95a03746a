from django.conf import settings
from django.db import models


class StaffProfile(models.Model):
    """Which cinemas a staff member works for. Their role is their group (roles.py); what they
    may see and change is the role's permissions, for these cinemas only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    cinemas = models.ManyToManyField("screenings.Cinema", blank=True, related_name="staff")
    all_cinemas = models.BooleanField(
        default=False, help_text="Head office: every cinema, including ones opened later."
    )

    class Meta:
        permissions = [
            ("checkin_tickets", "Check tickets in at the door"),
            ("look_up_orders", "Look up orders"),
            ("resend_confirmation", "Resend a confirmation email"),
            ("view_dashboard", "See the sales dashboard"),
            ("plan_schedule", "Plan and move screenings"),
            ("edit_layouts", "Edit seat layouts"),
            ("cancel_screenings", "Cancel screenings, refunding every buyer"),
            ("refund_orders", "Refund orders"),
            ("export_data", "Export orders and attendance"),
            ("view_audit", "Read the audit log"),
            ("manage_partners", "Manage partners, keys, campaigns and allocations"),
        ]

    def __str__(self) -> str:
        return f"Staff profile of {self.user}"
