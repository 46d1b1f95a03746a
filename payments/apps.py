from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # The deploy checks, and the outbox handlers (the sandbox's webhook delivery).
        from . import checks, tasks  # noqa: F401
