from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "ticketing.storefront"
    label = "storefront"
    verbose_name = "Storefront"
