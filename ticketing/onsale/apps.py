from django.apps import AppConfig


class OnsaleConfig(AppConfig):
    name = "ticketing.onsale"
    label = "onsale"
    verbose_name = "Onsales and the waiting room"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The per-buyer tallies (their models, and the receivers of the order signals).
        # Screenings taken out of an onsale, or an onsale deleted: their cached entries dropped.
        from . import (
            limits,  # noqa: F401
            services,  # noqa: F401
        )
