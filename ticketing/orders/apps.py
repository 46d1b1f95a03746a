from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "ticketing.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from . import emails  # noqa: F401 - registers the confirmation email's outbox handler
