from django.urls import path

from . import account, checkout, onsale_gate, presale, views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("films/<slug:slug>/", views.film_detail, name="film"),
    path("cinemas/<slug:slug>/", views.cinema_detail, name="cinema"),
    path("screenings/<int:pk>/", views.screening_detail, name="screening"),
    path("screenings/<int:pk>/seats.json", views.screening_seats, name="screening-seats"),
    path("screenings/<int:pk>/hold/", checkout.hold_seats, name="hold"),
    path("presale/", presale.unlock, name="presale"),
    path("wait/<int:onsale_id>/", onsale_gate.wait, name="wait"),
    path("wait/<int:onsale_id>/status.json", onsale_gate.wait_status, name="wait-status"),
    path("checkout/<uuid:hold_id>/", checkout.checkout, name="checkout"),
    path("checkout/<uuid:hold_id>/release/", checkout.release, name="release"),
    path("checkout/done/<str:token>/", checkout.done, name="done"),
    path("checkout/pay/<str:token>/", checkout.pay, name="pay"),
    path("account/login/", account.SignInView.as_view(), name="login"),
    path("account/logout/", account.sign_out, name="logout"),
    path("account/signup/", account.signup, name="signup"),
    path("account/", account.account, name="account"),
]
