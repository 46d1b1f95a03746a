"""Payment routes, included under /api/v1/ by ticketing.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("orders/<str:pk>/payments/", api.PaymentStart.as_view(), name="order-payment-start"),
    path("orders/<str:pk>/settle/", api.OrderSettle.as_view(), name="order-settle"),
    path(
        "payments/webhooks/<str:provider>/",
        api.ProviderWebhook.as_view(),
        name="payment-webhook",
    ),
]
