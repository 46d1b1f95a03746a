from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ticketing import staff_login
from ticketing.health import health, ready
from ticketing.observability.metrics import metrics_view

handler400 = "ticketing.api.errors.bad_request"
handler404 = "ticketing.api.errors.not_found"
handler500 = "ticketing.api.errors.server_error"

urlpatterns = [
    path("", include("ticketing.storefront.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/login/", staff_login.login),  # admin.site's own, throttled
    path("admin/", admin.site.urls),
    path("api/v1/", include("ticketing.api.urls")),
    path("orders/", include("ticketing.orders.urls")),
    path("payments/sandbox/", include("payments.sandbox_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health, name="health"),
    path("readyz", ready, name="ready"),
    path("metrics", metrics_view, name="metrics"),
]

admin.site.site_header = "Marquee staff"
admin.site.site_title = "Marquee"
