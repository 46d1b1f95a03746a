"""Security headers: a Content-Security-Policy on every page that allows no inline script, and
CORS for the read-only catalogue only (studios' showtime widgets), never with credentials.

That the pages really work under the policy, in a browser, is tests/browser/test_csp.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories
from tests.api.test_auth_and_throttle import reads
from tests.security.startup import production, settings_of, start

ROOT = Path(settings.BASE_DIR)
STUDIO = "https://studio.example"


def policy(response, header: str = "Content-Security-Policy") -> dict[str, list[str]]:
    """The policy a response carries, directive by directive."""
    directives = {}
    for part in response[header].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def policies_of(env: dict[str, str]) -> tuple[str, str]:
    """The enforced and the report-only policy a process started with `env` sends."""
    code = (
        "import json, django; django.setup(); from csp.utils import build_policy; "
        "print(json.dumps([build_policy(), build_policy(report_only=True)]))"
    )
    done = start(env, [sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    enforced, report_only = json.loads(done.stdout.strip().splitlines()[-1])
    return enforced, report_only


# ---- Content-Security-Policy ------------------------------------------------------------------
@pytest.mark.django_db
def test_every_page_gets_a_policy_that_allows_scripts_from_this_site_only(client):
    directives = policy(client.get("/"))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert "'self'" in directives["form-action"]
    assert not any("unsafe" in source for sources in directives.values() for source in sources)


@pytest.mark.django_db
def test_the_seat_map_page_styles_its_columns_with_the_nonce_its_policy_names(client, cinema):
    screening = factories.screening(factories.layout_room(cinema, "ss..ss\nssssss"))
    response = client.get(f"/screenings/{screening.pk}/")
    html = response.content.decode()
    nonces = [s for s in policy(response)["style-src"] if s.startswith("'nonce-")]
    assert len(nonces) == 1
    assert f'<style nonce="{nonces[0][7:-1]}">#seatmap {{ --cols: 6; }}</style>' in html
    assert "style=" not in html


@pytest.mark.django_db
def test_an_aisle_is_drawn_by_empty_cells_not_by_a_style_attribute(client, cinema):
    screening = factories.screening(factories.layout_room(cinema, "s..ss"))
    html = client.get(f"/screenings/{screening.pk}/").content.decode()
    row = re.search(r'<div class="row-seats">(.*?)</div>', html).group(1)
    cells = re.findall(r'<span class="(seat-cell|seat-gap)">', row)
    assert cells == ["seat-cell", "seat-gap", "seat-gap", "seat-cell", "seat-cell"]


@pytest.mark.django_db
def test_a_page_without_a_style_block_names_no_nonce(client):
    assert "nonce" not in client.get("/").headers["Content-Security-Policy"]


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates"), *ROOT.glob("ticketing/*/templates")]
SERVED = sorted(
    path
    for folder in TEMPLATE_DIRS
    for path in folder.rglob("*.html")
    if "emails" not in path.relative_to(folder).parts  # read in a mail client, never served
)
INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*application/json)[^>]*>"),
    "an event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.S),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.S),
    "a style block without the nonce": re.compile(r"<style(?![^>]*\snonce=)[^>]*>"),
}


@pytest.mark.parametrize("path", SERVED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_served_template_has_inline_script_or_style_the_policy_would_block(path):
    text = path.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{path.relative_to(ROOT)} has {', '.join(found)}"


@pytest.mark.django_db
def test_the_api_docs_load_their_init_script_as_a_file_and_style_with_the_nonce(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    nonce = next(s for s in policy(response)["style-src"] if s.startswith("'nonce-"))[7:-1]
    assert f'<style nonce="{nonce}">' in html
    assert not INLINE["an inline script"].search(html)
    script = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    init = client.get(script.replace("&amp;", "&"))
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in init.content.decode()


@pytest.mark.django_db
def test_error_pages_get_the_policy_and_their_style_from_a_file(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert policy(response)["script-src"] == ["'self'"]
    for name in ("500.html", "403_csrf.html"):
        assert "marquee/plain.css" in (ROOT / "templates" / name).read_text()


def test_the_settings_pass_the_checks_of_django_csp_and_django_cors_headers():
    """django-csp refuses any setting named like its 3.x ones (CSP_*): a `manage.py check`
    with one fails the deploy."""
    from corsheaders.checks import check_settings
    from csp.checks import check_django_csp_lt_4_0, check_exclude_url_prefixes_is_not_string

    assert check_django_csp_lt_4_0(None) == []
    assert check_exclude_url_prefixes_is_not_string(None) == []
    assert check_settings() == []


def test_report_only_sends_the_same_policy_as_a_report_and_enforces_nothing():
    enforced, report_only = policies_of(production(MARQUEE_CSP_REPORT_ONLY="1"))
    assert enforced == ""
    assert "script-src 'self'" in report_only and "frame-ancestors 'none'" in report_only


def test_by_default_the_policy_is_enforced_and_reports_to_the_uri_given():
    enforced, report_only = policies_of(production(MARQUEE_CSP_REPORT_URI="/csp-reports/"))
    assert "script-src 'self'" in enforced and "report-uri /csp-reports/" in enforced
    assert report_only == ""


def form_action(enforced: str) -> list[str]:
    return next(p.split()[1:] for p in enforced.split(";") if p.split()[0] == "form-action")


def test_checkout_may_end_on_stripe_checkout_and_the_sandbox_on_the_listed_return_hosts():
    """A form's redirect is checked against form-action: checkout posts here and is sent on to
    Stripe Checkout (a GET of its page); the sandbox's card form ends on the return_url."""
    env = production(
        MARQUEE_SITE_URL="https://tickets.example",
        MARQUEE_PAYMENT_RETURN_HOSTS="app.partner.example,.studio.example",
    )
    sources = form_action(policies_of(env)[0])
    assert sources == [
        "'self'",
        "https://tickets.example",
        "https://checkout.stripe.com",
        "app.partner.example",
        "studio.example",
        "*.studio.example",
    ]


def test_without_stripe_forms_go_nowhere_but_this_site():
    env = {"DJANGO_DEBUG": "1", "MARQUEE_PAYMENT_PROVIDERS": "sandbox"}
    assert form_action(policies_of(env)[0]) == ["'self'", "http://127.0.0.1:8000"]


def test_poster_hosts_and_form_targets_can_be_added():
    env = production(
        MARQUEE_CSP_IMAGE_HOSTS="https://images.studio.example",
        MARQUEE_CSP_FORM_ACTION="https://pay.tickets.example",
    )
    enforced = policies_of(env)[0]
    assert "img-src 'self' data: https://images.studio.example" in enforced
    assert form_action(enforced)[-1] == "https://pay.tickets.example"


# ---- CORS -------------------------------------------------------------------------------------
@pytest.fixture
def catalogue(screening):
    """The anonymous catalogue reads, the same list the throttle tests use."""
    return reads(screening)


def test_a_widget_on_any_site_reads_the_catalogue_without_credentials(client, catalogue):
    for path in catalogue:
        response = client.get(path, HTTP_ORIGIN=STUDIO)
        assert response.status_code == 200, path
        assert response["Access-Control-Allow-Origin"] == "*", path
        assert "Access-Control-Allow-Credentials" not in response, path


def test_a_widget_may_only_get_and_send_no_api_key(client, catalogue):
    response = client.options(
        catalogue[-1],
        HTTP_ORIGIN=STUDIO,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "authorization" not in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/v1/holds/"),
        ("get", "/api/v1/holds/h_1/"),
        ("post", "/api/v1/orders/"),
        ("get", "/api/v1/orders/ABC123/"),
        ("post", "/api/v1/orders/ABC123/payments/"),
        ("post", "/api/v1/payments/webhooks/sandbox/"),
        ("get", "/api/v1/allocations/"),
        ("get", "/api/schema/"),
        ("get", "/"),
        ("get", "/screenings/1/"),
    ],
)
def test_booking_orders_payments_and_the_storefront_never_answer_cross_origin(
    client, db, method, path
):
    preflight = client.options(
        path, HTTP_ORIGIN=STUDIO, HTTP_ACCESS_CONTROL_REQUEST_METHOD=method.upper()
    )
    response = getattr(client, method)(path, HTTP_ORIGIN=STUDIO)
    for answer in (preflight, response):
        assert not [h for h in answer.headers if h.lower().startswith("access-control-")], path


def test_with_origins_listed_only_those_sites_read_the_catalogue(client, settings, catalogue):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = [STUDIO]
    assert client.get(catalogue[0], HTTP_ORIGIN=STUDIO)["Access-Control-Allow-Origin"] == STUDIO
    other = client.get(catalogue[0], HTTP_ORIGIN="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize(
    "value, allow_all, origins",
    [
        (None, True, []),
        ("*", True, []),
        ("https://a.example, https://b.example", False, ["https://a.example", "https://b.example"]),
        ("none", False, []),
    ],
)
def test_the_allowed_origins_come_from_marquee_cors_allowed_origins(value, allow_all, origins):
    env = production() if value is None else production(MARQUEE_CORS_ALLOWED_ORIGINS=value)
    values = settings_of(env, "CORS_ALLOW_ALL_ORIGINS", "CORS_ALLOWED_ORIGINS")
    assert values == {"CORS_ALLOW_ALL_ORIGINS": allow_all, "CORS_ALLOWED_ORIGINS": origins}
