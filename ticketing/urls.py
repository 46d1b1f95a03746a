from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.i18n import set_language
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ticketing import staff_login
from ticketing.health import health, ready
from ticketing.observability.metrics import metrics_view
from ticketing.storefront import live


@cache_control(public=True, max_age=86400)
def uploaded(request, path):
    """A file staff uploaded, from MEDIA_ROOT as it is now (not as it was at import)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


handler400 = "ticketing.api.errors.bad_request"
handler404 = "ticketing.api.errors.not_found"
handler500 = "ticketing.api.errors.server_error"

urlpatterns = [
    path("", include("ticketing.storefront.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/login/", staff_login.login),  # to the staff sign-in (both factors), throttled
    path("admin/", admin.site.urls),
    path("staff/campaigns/", include("promotions.report_views")),  # campaign reports
    path("staff/", include("ticketing.staff.urls")),
    path("api/v1/", include("ticketing.api.urls")),
    path("orders/", include("ticketing.orders.urls")),
    path("payments/sandbox/", include("payments.sandbox_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as a file: no inline script (CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    # Seat statuses pushed (Server-Sent Events): served by the push server (ASGI, `make push`).
    path("live/screenings/<int:pk>/seats/", live.screening_seats_live, name="live-seats"),
    path("healthz", health, name="health"),
    path("readyz", ready, name="ready"),
    path("metrics", metrics_view, name="metrics"),
    # What staff upload (campaign banners, a handful of images) is served by Django itself, in
    # production too: whitenoise serves only what collectstatic gathered. An upload never
    # replaces a file of the same name (the storage adds a suffix), so a day's caching is safe;
    # a proxy or CDN in front can serve MEDIA_URL from MEDIA_ROOT instead.
    re_path(r"^media/(?P<path>.+)$", uploaded, name="media"),
]

admin.site.site_header = "Marquee staff"
admin.site.site_title = "Marquee"
