"""Screenshots of the staff admin and the API docs for the README.

Run against a server started with `make run` (demo data loaded), with a partner's API key for
the payment shots (`manage.py create_partner NAME` prints one):

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 [API_KEY]

With a key it also buys two seats through the API, pays on the sandbox page with card 4242, and
shoots the sandbox page and the buyer's order page (its link is read from the console email, so
pass `--log FILE` pointing at the `make run` output).

Uses Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) through Playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def _api(base: str, key: str, method: str, path: str, body=None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own server, http(s) only
        f"{base}/api/v1{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - our own server
        return json.loads(response.read())


def _pay(page, base: str, key: str, log: Path | None) -> None:
    screening = _api(base, key, "GET", "/screenings/?film=1")["results"][1]["id"]
    hold = _api(base, key, "POST", "/holds/", {"screening": screening, "quantity": 2})
    order = _api(
        base,
        key,
        "POST",
        "/orders/",
        {
            "hold": hold["id"],
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "tickets": [{"seat": seat["id"], "ticket_type": "adult"} for seat in hold["seats"]],
        },
    )
    payment = _api(
        base, key, "POST", f"/orders/{order['id']}/payments/", {"return_url": f"{base}/"}
    )
    page.goto(payment["redirect_url"])
    page.screenshot(path=OUT / "sandbox-payment.png", full_page=True)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Ada Lovelace")
    page.get_by_role("button", name=re.compile("^Pay")).click()
    page.wait_for_load_state()
    if log is None:
        return
    links = re.findall(rf"{re.escape(base)}/orders/[^ /\s]+/", log.read_text())
    if links:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(links[-1])
        page.screenshot(path=OUT / "order-page-phone.png", full_page=True)


def _demo_code() -> str:
    """The code the demo's published authenticator key shows now (ticketing/staff/demo.py)."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode("MARQUEEDEMOKEYFORSTAFFSIGNINONLY"), 30, 0, 6, 0)
    return f"{totp.token():06d}"


def main(base: str, key: str | None, log: Path | None) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/api/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        page.screenshot(path=OUT / "api-docs.png")

        page.goto(f"{base}/admin/login/")  # the staff sign-in: password, then the code
        page.fill("#id_username", "staff")
        page.fill("#id_password", "marquee-demo")
        page.click("button[type=submit]")
        page.fill("#id_code", _demo_code())
        page.click("button[type=submit]")
        page.goto(f"{base}/admin/screenings/screening/")
        page.screenshot(path=OUT / "admin-screenings.png")
        page.goto(f"{base}/admin/screenings/auditorium/1/change/")
        page.screenshot(path=OUT / "admin-layout.png", full_page=True)
        if key:
            page.set_viewport_size({"width": 1000, "height": 900})
            _pay(page, base, key, log)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("key", nargs="?", help="a partner API key, for the payment shots")
    parser.add_argument("--log", type=Path, help="the make run output (for the order page link)")
    args = parser.parse_args()
    main(args.base.rstrip("/"), args.key, args.log)
