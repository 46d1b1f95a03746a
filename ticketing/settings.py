"""Marquee settings: every knob comes from the environment, with defaults for the embedded mode.

With no DATABASE_URL and no REDIS_URL the app runs on SQLite, Celery tasks run in-process and
email is printed to the console. Set them and the same code runs on PostgreSQL and Redis.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from . import security
from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MARQUEE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# With DEBUG off a missing, published or weak key refuses to start (security.refuse_unsafe below).
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "") or (security.DEVELOPMENT_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "ticketing.staff.admin_site.StaffAdminConfig",  # django.contrib.admin, wanting both factors
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ticketing.screenings",
    "ticketing.partners",
    "ticketing.inventory",
    "ticketing.orders",
    "ticketing.outbox",
    "ticketing.webhooks",
    "ticketing.api",
    "payments",
    "promotions",
    "ticketing.checkin",
    "ticketing.onsale",
    "ticketing.flows",
    "ticketing.storefront",
    "ticketing.observability",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ticketing.audit",
    "ticketing.staff",
]

MIDDLEWARE = [
    "ticketing.observability.request_id.RequestIdMiddleware",
    "ticketing.observability.metrics.MetricsMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ticketing.api.errors.ApiErrorMiddleware",
]

ROOT_URLCONF = "ticketing.urls"
WSGI_APPLICATION = "ticketing.wsgi.application"
ASGI_APPLICATION = "ticketing.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "ticketing.staff.nav.staff_nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
    if env_bool("DATABASE_PREPARED_STATEMENTS", False):
        # Server-side binding, and statements run 5 times on a connection are prepared: PostgreSQL
        # parses and plans them once. Off behind a transaction-pooling PgBouncer.
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6 behaviour now

# --- Redis: cache, throttles, Celery broker -------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "ticketing.cache_backend.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "marquee"),
            # Short timeouts: a Redis outage must degrade the cache, not stall a sale.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not bool(REDIS_URL))
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A publish to a dead broker must fail fast; the outbox sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 0,
    "visibility_timeout": 3600,
}
SWEEP_INTERVAL_SECONDS = env_int("MARQUEE_SWEEP_INTERVAL", 30)
OUTBOX_INTERVAL_SECONDS = env_int("MARQUEE_OUTBOX_INTERVAL", 30)
CELERY_BEAT_SCHEDULE = {
    "sweep-expired-holds-and-orders": {
        "task": "ticketing.flows.tasks.sweep_expired",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
    "purge-idempotency-records": {
        "task": "ticketing.api.tasks.purge_idempotency_records",
        "schedule": 3600,
    },
    "relay-outbox": {
        "task": "ticketing.outbox.tasks.relay_outbox",
        "schedule": OUTBOX_INTERVAL_SECONDS,
    },
}

# --- Email ------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)  # a hung mail server must not hang the worker
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "emails"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Marquee <tickets@marquee.local>")

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "storefront:login"
LOGIN_REDIRECT_URL = "storefront:account"
LOGOUT_REDIRECT_URL = "storefront:home"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# What staff upload (campaign banners): under the var dir, served at MEDIA_URL by ticketing/urls.py.
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("MARQUEE_MANIFEST_STATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# --- HTTPS: on by default in production (docs/operations.md, "HTTPS") -------------------------
HTTPS = env_bool("MARQUEE_HTTPS", not DEBUG)
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = HTTPS
# Probes and scrapers inside the network speak plain HTTP to the container (wait/0/status.json:
# the waiting service's liveness probe, answered without a waiter cookie, Redis or the database).
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics|wait/0/status\.json)$"]
SECURE_HSTS_SECONDS = env_int("MARQUEE_HSTS_SECONDS", 365 * 24 * 3600) if HTTPS else 0
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Marquee ----------------------------------------------------------------------------------
MARQUEE = {
    "MAX_SEATS_PER_ORDER": env_int("MARQUEE_MAX_SEATS_PER_ORDER", 10),
    # Seats one browser buyer, and one client network (/24, /64), may hold at once on one
    # screening: a script without cookies cannot squat a whole room (docs/operations.md).
    "HOLD_LIMIT_PER_BUYER": env_int("MARQUEE_HOLD_LIMIT_PER_BUYER", 10),
    "HOLD_LIMIT_PER_NETWORK": env_int("MARQUEE_HOLD_LIMIT_PER_NETWORK", 30),
    # Reaching payment extends a hold once, by this much, never past HOLD_HARD_CAP after creation.
    "HOLD_EXTENSION_SECONDS": env_int("MARQUEE_HOLD_EXTENSION_SECONDS", 300),
    "HOLD_HARD_CAP_SECONDS": env_int("MARQUEE_HOLD_HARD_CAP_SECONDS", 1200),
    "SWEEP_BATCH_SIZE": env_int("MARQUEE_SWEEP_BATCH_SIZE", 500),
    "SEAT_MAP_CACHE_SECONDS": env_int("MARQUEE_SEAT_MAP_CACHE_SECONDS", 1),
    # How often the storefront's seat map asks for fresh statuses (milliseconds).
    "SEAT_MAP_POLL_MS": env_int("MARQUEE_SEAT_MAP_POLL_MS", 3000),
    # While the statuses are pushed (MARQUEE_PUSH_URL), a slower poll as well, to be safe.
    "SEAT_MAP_PUSHED_POLL_MS": env_int("MARQUEE_SEAT_MAP_PUSHED_POLL_MS", 30000),
    # The storefront marks a showtime "almost full" at this share of its seats taken.
    "ALMOST_FULL_RATIO": 0.8,
    # A retry with the same Idempotency-Key is answered from the record for this long.
    "IDEMPOTENCY_KEY_HOURS": env_int("MARQUEE_IDEMPOTENCY_KEY_HOURS", 24),
    # How many proxies in front append to X-Forwarded-For: every rate limit counts by the
    # address they vouch for (ticketing/client_ip.py). 0, the default, ignores the header.
    "TRUSTED_PROXIES": security.trusted_proxies(
        env_str("MARQUEE_NUM_PROXIES", "0"), behind_tls_proxy=BEHIND_TLS_PROXY
    ),
}

# Where seat maps listen for pushed statuses (ticketing/storefront/live.py: the push server,
# `make push`, that a proxy sends /live/ to; an absolute URL for one on another origin). Empty:
# the maps poll, as they do with no Redis (`make run`).
MARQUEE_PUSH_URL = env_str("MARQUEE_PUSH_URL", "/live/" if REDIS_URL else "")
# The onsale waiting room (docs/onsale.md): live admissions at once for an onsale whose rate is
# 0 ("as fast as purchases complete"), how long a place is kept without a poll, and how long a
# waiter whose turn came has to take it.
MARQUEE_ONSALE = {
    "LIVE_ADMISSIONS": env_int("MARQUEE_ONSALE_LIVE_ADMISSIONS", 100),
    "KEEP_SECONDS": env_int("MARQUEE_ONSALE_KEEP_SECONDS", 300),
    "GRACE_SECONDS": env_int("MARQUEE_ONSALE_GRACE_SECONDS", 120),
}

# --- Staff pages (ticketing/staff; docs/staff.md) ---------------------------------------------
# Staff sign in with a password and a TOTP code. Off only for local development: production
# refuses to start with it off (ticketing/security.py).
MARQUEE_STAFF_OTP = env_bool("MARQUEE_STAFF_OTP", True)
OTP_TOTP_ISSUER = env_str("MARQUEE_OTP_ISSUER", "Marquee")
# Nobody reads a member's authenticator key or backup codes back from the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Door check-in (ticketing/checkin; docs/operations.md "Ticket signing keys") --------------
# Ed25519 keys signing tickets' QR codes, `kid:<base64url of 32 bytes>` comma separated: the
# first signs, all verify. Unset, a key derived from SECRET_KEY (DEBUG only: production refuses).
MARQUEE_TICKET_SIGNING_KEYS = env_str("MARQUEE_TICKET_SIGNING_KEYS", "")
MARQUEE_CHECKIN = {
    # A screening's doors open this long before it starts: a scan before is `checkin_not_open`.
    "DOORS_OPEN_MINUTES": env_int("MARQUEE_CHECKIN_DOORS_OPEN_MINUTES", 60),
    # Requests a minute of one scanner key (create_scanner), a door scans fast.
    "SCANNER_RATE_PER_MINUTE": env_int("MARQUEE_CHECKIN_SCANNER_RATE", 600),
    # Scans in one POST /api/v1/checkins/sync/.
    "SYNC_MAX_SCANS": env_int("MARQUEE_CHECKIN_SYNC_MAX_SCANS", 500),
    # A device's clock may run this far ahead of ours; a scan dated later is refused.
    "CLOCK_SKEW_SECONDS": env_int("MARQUEE_CHECKIN_CLOCK_SKEW_SECONDS", 300),
}

# --- Payments -------------------------------------------------------------------------------
MARQUEE_PAYMENTS = {
    # The first is the default. The sandbox is the default everywhere; production sets stripe.
    "PROVIDERS": env_list("MARQUEE_PAYMENT_PROVIDERS", ["sandbox"]),
    # Where the sandbox and buyers come back to; also the base of links in emails.
    "SITE_URL": env_str("MARQUEE_SITE_URL", "http://127.0.0.1:8000"),
    # Hosts besides SITE_URL's that a partner's return_url may name (".example.com": subdomains).
    "RETURN_HOSTS": env_list("MARQUEE_PAYMENT_RETURN_HOSTS", []),
    "SANDBOX_WEBHOOK_BASE_URL": env_str("MARQUEE_SANDBOX_WEBHOOK_BASE_URL", ""),
    "SANDBOX_WEBHOOK_SECRET": env_str("MARQUEE_SANDBOX_WEBHOOK_SECRET")
    or security.DEFAULT_SANDBOX_SECRET,
    # With DEBUG off the sandbox runs only when asked for by name (security.sandbox_problem).
    "SANDBOX_IN_PRODUCTION": env_bool("MARQUEE_SANDBOX_IN_PRODUCTION", False),
    "WEBHOOK_TOLERANCE_SECONDS": env_int("MARQUEE_WEBHOOK_TOLERANCE_SECONDS", 300),
    "STRIPE_SECRET_KEY": env_str("STRIPE_SECRET_KEY", ""),
    "STRIPE_WEBHOOK_SECRET": env_str("STRIPE_WEBHOOK_SECRET", ""),
}

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ticketing.partners.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": [
        "ticketing.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "ticketing.api.throttling.AnonRateThrottle",
        "ticketing.api.throttling.PartnerRateThrottle",
        "ticketing.api.throttling.UserRateThrottle",
        "ticketing.api.throttling.SessionBookingThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("MARQUEE_THROTTLE_ANON", "120/min"),
        "partner": env_str("MARQUEE_THROTTLE_PARTNER", "6000/min"),
        "user": env_str("MARQUEE_THROTTLE_USER", "600/min"),
        # The storefront's forms that change something, per client address (see storefront/throttle.py).
        "storefront": env_str("MARQUEE_THROTTLE_STOREFRONT", "60/min"),
        # /admin/login/ (ticketing/staff_login.py): sign-in attempts per client address, and
        # failed ones per client address and per username.
        "admin_login": env_str("MARQUEE_THROTTLE_ADMIN_LOGIN", "10/min"),
        "admin_login_failed": env_str("MARQUEE_THROTTLE_ADMIN_LOGIN_FAILED", "10/hour"),
        # /staff/login/code/ (ticketing/staff/login.py): codes typed per staff member.
        "staff_otp": env_str("MARQUEE_THROTTLE_STAFF_OTP", "10/hour"),
    },
    # DRF's own reading of X-Forwarded-For, kept in step; ours is ticketing/client_ip.py.
    "NUM_PROXIES": MARQUEE["TRUSTED_PROXIES"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ticketing.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "ticketing.api.schema.AutoSchema",  # errors documented
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Marquee partner API",
    "DESCRIPTION": "Films, cinemas, screenings, seat maps, holds and orders for ticketing partners.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN, works offline and behind firewalls.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Partner webhooks (ticketing/webhooks; docs/partners.md "Webhooks") ----------------------
MARQUEE_WEBHOOKS = {
    # Partners' URLs may be plain http, and may name loopback or private addresses (SSRF), only
    # when allowed: both on by default in development (DEBUG) only.
    "ALLOW_HTTP": env_bool("MARQUEE_WEBHOOKS_ALLOW_HTTP", DEBUG),
    "ALLOW_PRIVATE_ADDRESSES": env_bool("MARQUEE_WEBHOOKS_ALLOW_PRIVATE", DEBUG),
    "TIMEOUT_SECONDS": env_int("MARQUEE_WEBHOOKS_TIMEOUT", 5),
    # After a secret rotation the previous secret also signs for this long.
    "SECRET_OVERLAP_HOURS": env_int("MARQUEE_WEBHOOKS_SECRET_OVERLAP_HOURS", 24),
    "BATCH_SIZE": env_int("MARQUEE_WEBHOOKS_BATCH_SIZE", 200),
}
# A cancelled screening's refunds: orders per batch (one Celery message each), and how often
# beat looks for a run left with work and no progress (a worker killed mid-run).
MARQUEE_CANCEL_BATCH_SIZE = env_int("MARQUEE_CANCEL_BATCH_SIZE", 50)
CELERY_BEAT_SCHEDULE["resume-cancellation-refunds"] = {
    "task": "ticketing.flows.tasks.cancellation_refunds_resume",
    "schedule": 60,
    "options": {"expires": 50},
}
CELERY_BEAT_SCHEDULE["warm-staff-dashboard"] = {
    "task": "ticketing.staff.tasks.dashboard_warm",
    "schedule": 240,  # staff.dashboard_figures.WARM_SECONDS, before the kept figures lapse
    "options": {"expires": 200},
}
CELERY_BEAT_SCHEDULE["send-due-webhooks"] = {
    "task": "ticketing.webhooks.tasks.send_due_deliveries",
    "schedule": env_int("MARQUEE_WEBHOOKS_INTERVAL", 5),
    "options": {"expires": 30},
}

# --- Security headers: Content-Security-Policy and CORS (docs/operations.md) ------------------
from csp.constants import NONCE, NONE, SELF  # noqa: E402

# No inline script and no style attribute anywhere: scripts load from /static/; the few <style>
# blocks a page writes (the seat map's column count, the order, sandbox and API docs pages)
# carry the request's nonce.
_CSP = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        # data: for the images Swagger UI's stylesheet carries; posters on another host need
        # theirs listed.
        "img-src": [SELF, "data:", *env_list("MARQUEE_CSP_IMAGE_HOSTS", [])],
        # The seat maps' push (EventSource) and polls; a push server on another origin too.
        "connect-src": [
            SELF,
            *(
                ["{0.scheme}://{0.netloc}".format(urlsplit(MARQUEE_PUSH_URL))]
                if urlsplit(MARQUEE_PUSH_URL).netloc
                else []
            ),
        ],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # A form's redirect is checked too: checkout posts here and is sent on to the payment
        # page (the sandbox's on SITE_URL, Stripe Checkout's), whose form ends on the return_url.
        "form-action": [
            SELF,
            "{0.scheme}://{0.netloc}".format(urlsplit(MARQUEE_PAYMENTS["SITE_URL"])),
            *(["https://checkout.stripe.com"] if "stripe" in MARQUEE_PAYMENTS["PROVIDERS"] else []),
            *(
                source
                for host in MARQUEE_PAYMENTS["RETURN_HOSTS"]
                for source in ([host[1:], f"*{host}"] if host.startswith(".") else [host])
            ),
            *env_list("MARQUEE_CSP_FORM_ACTION", []),
        ],
        "report-uri": env_list("MARQUEE_CSP_REPORT_URI", []) or None,
    }
}
# Report-only: browsers report what the policy would block and block nothing (a trial run).
_CSP_REPORT_ONLY = env_bool("MARQUEE_CSP_REPORT_ONLY", False)
CONTENT_SECURITY_POLICY = None if _CSP_REPORT_ONLY else _CSP
CONTENT_SECURITY_POLICY_REPORT_ONLY = _CSP if _CSP_REPORT_ONLY else None

# Studios' showtime widgets read the catalogue from their own sites: those GETs alone answer
# cross-origin, without credentials, so no cookie or API key is ever used from another origin.
CORS_URLS_REGEX = r"^/api/v1/(films/(\d+/)?|cinemas/|screenings/(\d+/(seats/)?)?)$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "accept-language"]
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_ALLOW_CREDENTIALS = False
_CORS_ORIGINS = env_list("MARQUEE_CORS_ALLOWED_ORIGINS", ["*"])
CORS_ALLOW_ALL_ORIGINS = _CORS_ORIGINS == ["*"]
CORS_ALLOWED_ORIGINS = [] if CORS_ALLOW_ALL_ORIGINS or _CORS_ORIGINS == ["none"] else _CORS_ORIGINS

# --- Refusals: with DEBUG off, unsafe settings stop every process here (docs/operations.md) ----
security.refuse_unsafe(
    debug=DEBUG,
    secret_key=SECRET_KEY,
    payment_providers=MARQUEE_PAYMENTS["PROVIDERS"],
    sandbox_opted_in=MARQUEE_PAYMENTS["SANDBOX_IN_PRODUCTION"],
    sandbox_webhook_secret=MARQUEE_PAYMENTS["SANDBOX_WEBHOOK_SECRET"],
    rates=REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
    staff_otp=MARQUEE_STAFF_OTP,
    ticket_signing_keys=MARQUEE_TICKET_SIGNING_KEYS,
)

# --- Observability: logs, request id, error reporting, metrics, heartbeats -------------------
# (ticketing/observability; docs/operations.md "Logs" to "Readiness")
from ticketing.observability.logs import log_format, logging_config  # noqa: E402

LOG_FORMAT = log_format(debug=DEBUG, requested=env_str("MARQUEE_LOG_FORMAT", ""))
LOGGING = logging_config(fmt=LOG_FORMAT, level=env_str("LOG_LEVEL", "INFO"))
MARQUEE_OBSERVABILITY = {
    # Take the request id from an incoming X-Request-ID (a proxy in front sets it).
    "TRUST_REQUEST_ID": env_bool("MARQUEE_TRUST_REQUEST_ID", False),
    # Bearer token for /metrics; without one only direct loopback connections are served.
    "METRICS_TOKEN": env_str("MARQUEE_METRICS_TOKEN", ""),
    "HEARTBEAT_INTERVAL_SECONDS": env_int("MARQUEE_HEARTBEAT_INTERVAL", 30),
    # /readyz fails when the worker's or beat's heartbeat is older than this many intervals.
    "HEARTBEAT_MAX_MISSED": env_int("MARQUEE_HEARTBEAT_MAX_MISSED", 3),
}
CELERY_BEAT_SCHEDULE["heartbeat"] = {
    "task": "ticketing.observability.tasks.heartbeat",
    "schedule": MARQUEE_OBSERVABILITY["HEARTBEAT_INTERVAL_SECONDS"],
    "options": {"expires": MARQUEE_OBSERVABILITY["HEARTBEAT_INTERVAL_SECONDS"]},
}
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    from ticketing.observability.sentry import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        release=env_str("SENTRY_RELEASE", ""),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0),
    )
