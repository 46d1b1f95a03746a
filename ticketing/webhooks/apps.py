from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "ticketing.webhooks"
    label = "webhooks"
    verbose_name = "Partner webhooks"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 - registers the deliveries' outbox handler
