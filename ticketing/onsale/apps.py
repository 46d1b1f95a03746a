from django.apps import AppConfig


class OnsaleConfig(AppConfig):
    name = "ticketing.onsale"
    label = "onsale"
    verbose_name = "Onsales and the waiting room"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The per-buyer tallies (their models, and the receivers of the order signals).
        from . import limits  # noqa: F401
