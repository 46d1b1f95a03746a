from django.urls import include, path

from . import allocations, views

urlpatterns = [
    path("films/", views.FilmList.as_view(), name="film-list"),
    path("films/<int:pk>/", views.FilmDetail.as_view(), name="film-detail"),
    path("cinemas/", views.CinemaList.as_view(), name="cinema-list"),
    path("screenings/", views.ScreeningList.as_view(), name="screening-list"),
    path("screenings/<int:pk>/", views.ScreeningDetail.as_view(), name="screening-detail"),
    path("screenings/<int:pk>/seats/", views.SeatMap.as_view(), name="screening-seats"),
    path("allocations/", allocations.AllocationList.as_view(), name="allocation-list"),
    path("holds/", views.HoldCreate.as_view(), name="hold-create"),
    path("holds/<str:pk>/", views.HoldDetail.as_view(), name="hold-detail"),
    path("orders/", views.OrderCreate.as_view(), name="order-create"),
    path("orders/<str:pk>/", views.OrderDetail.as_view(), name="order-detail"),
    path("orders/<str:pk>/cancel/", views.OrderCancel.as_view(), name="order-cancel"),
    path("", include("payments.api_urls")),
    path("", include("ticketing.webhooks.urls")),
    path("", include("promotions.api_urls")),
    path("", include("promotions.report_api")),
]
