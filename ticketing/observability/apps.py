from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "ticketing.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from . import metrics, request_id

        metrics.connect_signals()
        request_id.connect()
