from django.apps import AppConfig


class ScreeningsConfig(AppConfig):
    name = "ticketing.screenings"
    label = "screenings"
    verbose_name = "Screenings"
