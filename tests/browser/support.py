"""Helpers of the browser tests: accessibility checks with axe-core, screenshots, waiting.

Import them in tests: `from tests.browser.support import assert_accessible, screenshot, wait_until`.
The viewports the fixtures use (`DESKTOP`, `PHONE`) live here too, for tests that make their
own contexts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Page

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

# The default context of the `page` fixture: a laptop screen, British English, UTC.
DESKTOP: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-GB",
    "timezone_id": "UTC",
}
# The `phone_page` fixture: a current phone (the size of an iPhone 14 / 15), touch, 2x pixels.
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}

# axe-core impacts, least to most severe. Tests fail on these two; the others are reported by
# `axe_check(..., impacts=...)` for whoever wants to look.
FAILING_IMPACTS = ("serious", "critical")


# --- accessibility -------------------------------------------------------------------------------


def _inject_axe(page: Page) -> None:
    if page.evaluate("() => typeof window.axe !== 'undefined'"):
        return
    if not AXE.is_file():
        raise RuntimeError(f"{AXE} is missing: run `bash scripts/browser.sh` (npm ci) first.")
    # Not add_script_tag: the site's Content-Security-Policy (no inline scripts) refuses an
    # injected <script>. evaluate() runs outside the page's policy.
    page.evaluate(AXE.read_text(encoding="utf-8"))


def axe_check(
    page: Page, *, context: Any = None, impacts: tuple[str, ...] = FAILING_IMPACTS
) -> list[dict]:
    """Run axe-core on the page as it is now and return its violations of these impacts
    (by default 'serious' and 'critical').

    `context` is anything axe.run takes as its context: None for the whole document, a CSS
    selector ("main", "#seat-map"), or {"include": [...], "exclude": [...]}.
    Each violation is axe's dict: id, impact, help, helpUrl, nodes (each with target, html,
    failureSummary).
    """
    _inject_axe(page)
    results = page.evaluate(
        """async (context) => axe.run(context === null ? document : context,
                                      {resultTypes: ['violations']})""",
        context,
    )
    return [v for v in results["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict], *, targets: int = 3) -> str:
    """One readable paragraph per violation: rule id, impact, help, the first few targets."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}  <{v.get('helpUrl', '')}>")
        nodes = v.get("nodes", [])
        for node in nodes[:targets]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}: {node.get('html', '')[:160]}")
        if len(nodes) > targets:
            lines.append(f"    ... and {len(nodes) - targets} more")
    return "\n".join(lines)


def assert_accessible(page: Page, name: str, *, context: Any = None) -> None:
    """Fail if axe-core finds serious or critical violations on the page (or in `context`).
    `name` says which page or state this is, for the failure message."""
    violations = axe_check(page, context=context)
    if violations:
        raise AssertionError(
            f"{name} ({page.url}): {len(violations)} serious or critical accessibility "
            f"violation(s):\n{describe_violations(violations)}"
        )


# --- screenshots ---------------------------------------------------------------------------------


def screenshot_dir() -> Path:
    """Where `screenshot` writes: docs/screenshots/ (committed, used by README.md and docs)
    when MARQUEE_SCREENSHOTS=1, otherwise test-results/screenshots/ (gitignored, to look at
    after a run; pytest-playwright empties test-results/ at the start of each run)."""
    if os.environ.get("MARQUEE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return ROOT / "test-results" / "screenshots"


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of the page as `<name>.png` and return its path.

    By default only what the viewport shows (what a visitor sees first, at the context's size:
    1280x800 for `page`, 390x844 at 2x for `phone_page`); `full_page=True` for the whole page.

    Everyday runs write into test-results/screenshots/ (gitignored). To regenerate the
    documentation's images, run the tests that take them with MARQUEE_SCREENSHOTS=1: they are
    written into docs/screenshots/ instead, ready to commit. Animations are disabled and the
    caret hidden so that reruns give the same pixels.
    """
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, animations="disabled", caret="hide")
    return path


# --- waiting -------------------------------------------------------------------------------------


def wait_until(
    condition: Callable[[], T],
    message: str | Callable[[], str],
    *,
    timeout: float = 10.0,
    interval: float = 0.1,
) -> T:
    """Call `condition` until it returns something truthy and return that; after `timeout`
    seconds fail with `message` (a string, or a callable giving one, to report the state at
    that moment).

    For things outside the page, such as the database the live server writes to: the page
    itself is better waited on with Playwright's `expect(locator).to_...`, which retries.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"after {timeout:g} s: {text}")
        time.sleep(interval)
