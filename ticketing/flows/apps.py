from django.apps import AppConfig


class FlowsConfig(AppConfig):
    """No models: an app only so that Celery finds `tasks.py` here."""

    name = "ticketing.flows"
    label = "flows"
    verbose_name = "Flows across domains"
