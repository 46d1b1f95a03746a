"""Campaign routes, included under /api/v1/ by ticketing.api.urls."""

from django.urls import path

from . import api

urlpatterns = [
    path("campaigns/", api.CampaignList.as_view(), name="campaign-list"),
    path("campaigns/<int:pk>/", api.CampaignDetail.as_view(), name="campaign-detail"),
    path("campaigns/<int:pk>/codes/", api.CodeList.as_view(), name="campaign-codes"),
]
