from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "ticketing.checkin"
    label = "checkin"
    verbose_name = "Door check-in"
    default_auto_field = "django.db.models.BigAutoField"
