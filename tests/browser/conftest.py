"""Browser tests: Playwright (sync API, pytest-playwright) drives Debian's Chromium against
Django's live server, on the same PostgreSQL and Redis as the rest of the suite.

Fixtures:
    page        the pytest-playwright page, on the live server (`page.goto("/")` works: the
                context's base_url is the live server), 1280x800, en-GB, UTC, 10 s timeouts;
                an uncaught JavaScript exception in it fails the test.
    phone_page  the same on a phone: 390x844, touch, mobile, 2x pixels.
    site        the live server's URL (no trailing slash), with the sandbox payment provider
                sending buyers and its webhooks there. `page` and `phone_page` use it, so a
                test that has either need not ask for it.

Every test here is marked `browser` (`pytest -m "not browser"` leaves them out). The live server
makes each test a transactional one: what the test creates is committed, so the server's
threads see it, and the tables are emptied afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import DESKTOP, PHONE

# Playwright's sync API runs an asyncio event loop in the test's thread, and Django refuses ORM
# calls from a thread with a running loop (SynchronousOnlyOperation). The test code is plain
# synchronous code; the loop only carries Playwright's messages.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MARQUEE_CHROMIUM", "/usr/bin/chromium")
# Headless ("--headless=new") is Playwright's own. The rest keep Chromium from calling home
# (component updates, sync, field trials...): on a machine without outside network those
# connections are refused, and the browser is slower and noisier for it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 10_000  # actions and navigations; `expect(...)` keeps Playwright's 5 s


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"No Chromium at {CHROMIUM}: run `bash scripts/browser.sh` (or set MARQUEE_CHROMIUM).",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """pytest-playwright gives it to every context: `page.goto("/")` opens the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, **DESKTOP}


@pytest.fixture
def site(live_server, settings) -> Iterator[str]:
    """The live server's URL. The sandbox payment provider builds its hosted page's URL on
    SITE_URL and delivers its signed webhooks there (from an eager Celery task, over HTTP, in
    the server thread that takes the card): both reach this live server."""
    settings.MARQUEE_PAYMENTS = {**settings.MARQUEE_PAYMENTS, "SITE_URL": live_server.url}
    yield live_server.url


def _watch(page):
    """Fail the test at teardown if the page threw an uncaught JavaScript exception."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    page.set_default_timeout(TIMEOUT_MS)
    return errors


def _check(errors: list[str]) -> None:
    if errors:
        pytest.fail("uncaught JavaScript error(s) in the page:\n" + "\n".join(errors))


@pytest.fixture
def page(page, site):
    errors = _watch(page)
    yield page
    _check(errors)


@pytest.fixture
def phone_page(browser, browser_context_args: dict, site):
    """A page in a context of its own, on a phone."""
    context = browser.new_context(**{**browser_context_args, **PHONE})
    try:
        phone = context.new_page()
        errors = _watch(phone)
        yield phone
        _check(errors)
    finally:
        context.close()
