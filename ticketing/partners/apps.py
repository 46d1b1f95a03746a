from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "ticketing.partners"
    label = "partners"
    verbose_name = "Partners"
