from django.urls import include, path

from . import allocations, checkins, views

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
    path("checkins/", checkins.CheckinCreate.as_view(), name="checkin-create"),
    path("checkins/sync/", checkins.CheckinSync.as_view(), name="checkin-sync"),
    path("checkins/keys/", checkins.CheckinKeys.as_view(), name="checkin-keys"),
    path("checkins/screenings/", checkins.CheckinScreenings.as_view(), name="checkin-screenings"),
    path(
        "checkins/screenings/<int:pk>/tickets/",
        checkins.CheckinScreeningTickets.as_view(),
        name="checkin-screening-tickets",
    ),
    path("checkins/conflicts/", checkins.CheckinConflicts.as_view(), name="checkin-conflicts"),
    path("", include("payments.api_urls")),
    path("", include("ticketing.webhooks.urls")),
    path("", include("promotions.api_urls")),
    path("", include("promotions.report_api")),
]
