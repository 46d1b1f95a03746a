from django.apps import AppConfig


class FlowsConfig(AppConfig):
    """Flows across domains; its tables are a screening cancellation's run and items."""

    name = "ticketing.flows"
    label = "flows"
    verbose_name = "Flows across domains"
