from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "ticketing.inventory"
    label = "inventory"
    verbose_name = "Seat inventory"
