from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "ticketing.staff"
    label = "staff"
    verbose_name = "Staff"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import roles

        post_migrate.connect(roles.sync_after_migrate, sender=self)
