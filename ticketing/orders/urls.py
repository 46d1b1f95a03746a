from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("<str:token>/", views.order_page, name="page"),
    path("<str:token>/calendar.ics", views.order_calendar, name="calendar"),
]
