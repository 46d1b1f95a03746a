"""Webhook routes, included under /api/v1/ by ticketing.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("webhooks/", api.EndpointList.as_view(), name="webhook-list"),
    path("webhooks/deliveries/", api.DeliveryList.as_view(), name="webhook-delivery-list"),
    path(
        "webhooks/deliveries/<str:pk>/redeliver/",
        api.DeliveryRedeliver.as_view(),
        name="webhook-delivery-redeliver",
    ),
    path("webhooks/<str:pk>/", api.EndpointDetail.as_view(), name="webhook-detail"),
    path("webhooks/<str:pk>/test/", api.EndpointTest.as_view(), name="webhook-test"),
    path(
        "webhooks/<str:pk>/rotate-secret/",
        api.EndpointSecretRotate.as_view(),
        name="webhook-rotate-secret",
    ),
]
