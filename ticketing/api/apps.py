from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ticketing.api"
    label = "api"
    verbose_name = "Partner API"
