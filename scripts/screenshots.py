"""Screenshots of the staff admin and the API docs for the README.

Run against a server started with `make run` (demo data loaded):

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]

Uses Debian's Chromium (/usr/bin/chromium, or $CHROMIUM) through Playwright.
"""

from __future__ import annotations

import os
import sys
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


def main(base: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/api/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)
        page.screenshot(path=OUT / "api-docs.png")

        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", "staff")
        page.fill("#id_password", "marquee-demo")
        page.click("input[type=submit]")
        page.goto(f"{base}/admin/screenings/screening/")
        page.screenshot(path=OUT / "admin-screenings.png")
        page.goto(f"{base}/admin/screenings/auditorium/1/change/")
        page.screenshot(path=OUT / "admin-layout.png", full_page=True)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
