from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ticketing.api"
    label = "api"
    verbose_name = "Partner API"

    def ready(self) -> None:
        from . import schema  # noqa: F401 - registers the OpenAPI extensions
