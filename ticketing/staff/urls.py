"""`/staff/`: each page's module brings its own patterns."""

from django.urls import include, path

from . import (
    audit_log,
    cancellations,
    dashboard,
    door,
    exports,
    layout_editor,
    login,
    onsales,
    orders,
    schedule,
)
from .home import home

app_name = "staff"

urlpatterns = [
    path("", home, name="home"),
    path("", include(login.urlpatterns)),
    path("dashboard/", include(dashboard.urlpatterns)),
    path("onsales/", include(onsales.urlpatterns)),
    path("orders/", include(orders.urlpatterns)),
    path("schedule/", include(schedule.urlpatterns)),
    path("layouts/", include(layout_editor.urlpatterns)),
    path("cancellations/", include(cancellations.urlpatterns)),
    path("door/", include(door.urlpatterns)),
    path("exports/", include(exports.urlpatterns)),
    path("audit/", include(audit_log.urlpatterns)),
]
