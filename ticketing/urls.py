from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ticketing.health import health
from ticketing.screenings.views import home

handler400 = "ticketing.api.errors.bad_request"
handler404 = "ticketing.api.errors.not_found"
handler500 = "ticketing.api.errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("ticketing.api.urls")),
    path("orders/", include("ticketing.orders.urls")),
    path("payments/sandbox/", include("payments.sandbox_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health, name="health"),
]

admin.site.site_header = "Marquee staff"
admin.site.site_title = "Marquee"
