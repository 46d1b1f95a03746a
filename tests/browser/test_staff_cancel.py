"""Cancelling a screening in Chromium (issue 11): a manager picks the screening, gives the reason
and confirms; the cancellation's page counts the refunds as the worker makes them (its script
polls progress.json), lists the one the provider refused, and its Retry button pays it back.
Each page passes axe; screenshots docs/screenshots/staff-cancel*.png."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from payments.providers import sandbox
from payments.providers.base import RefundFailed
from tests import factories
from tests.flows.mass_cancel_support import big_screening, paid_orders
from tests.staff.support import staff_user
from ticketing.celery import app
from ticketing.flows import mass_refunds
from ticketing.flows.models import CancellationRun
from ticketing.staff import roles

from .support import assert_accessible, screenshot
from .test_staff_schedule import sign_in

real_refund = sandbox.SandboxProvider.refund


@pytest.fixture
def no_worker_yet():
    """The cancellation's task is queued to a broker no worker reads: the test makes the
    worker's batches itself, to watch the page follow them."""
    app.conf.task_always_eager = False
    yield
    app.control.purge()
    app.conf.task_always_eager = True


def test_a_manager_cancels_a_screening_and_watches_its_refunds(
    page, site, no_worker_yet, monkeypatch
):
    cinema = factories.cinema(name="Le Grand Rex", time_zone="Europe/Paris")
    screening = big_screening(cinema, seats=40, film=factories.film(title="The Long Crossing"))
    orders = paid_orders(screening, 12)
    sign_in(page, staff_user(roles.MANAGER, cinema, username="claire"), site)

    page.goto("/staff/cancellations/")
    expect(page.get_by_role("cell", name="The Long Crossing 2D")).to_be_visible()
    assert_accessible(page, "the cancellations list")
    screenshot(page, "staff-cancellations")
    page.get_by_role("link", name="Cancel The Long Crossing").click()
    page.get_by_label("Reason").fill("projector broken")
    page.get_by_label("I understand").check()
    assert_accessible(page, "the confirmation")
    screenshot(page, "staff-cancel-confirm")
    page.get_by_role("button", name="Cancel the screening and refund everyone").click()

    expect(page.locator(".flash")).to_contain_text("12 paid order(s) being refunded")
    run = CancellationRun.objects.get(screening=screening)
    left = page.locator('[data-field="left"]')
    expect(left).to_have_text("12")

    def refuse_one(self, payment, amount, *, idempotency_key):
        if payment.order_id == orders[3].pk:
            raise RefundFailed("sbx_re_no", "failed", "expired_or_canceled_card")
        return real_refund(self, payment, amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(sandbox.SandboxProvider, "refund", refuse_one)
    mass_refunds.batch_process(run_id=run.pk, size=5)  # a worker's first batch
    expect(left).to_have_text("7")  # the page followed, without a reload
    expect(page.locator('[data-field="refunded"]')).to_have_text("5")
    assert_accessible(page, "the cancellation's progress")
    screenshot(page, "staff-cancel-progress")
    while mass_refunds.batch_process(run_id=run.pk, size=5):
        pass

    # Done: the page reloads itself once and lists the refund that failed.
    expect(page.get_by_role("cell", name=orders[3].code, exact=True)).to_be_visible()
    expect(page.locator("body")).to_contain_text("expired_or_canceled_card")
    assert_accessible(page, "the failed refunds")
    screenshot(page, "staff-cancel-failed", full_page=True)

    monkeypatch.setattr(sandbox.SandboxProvider, "refund", real_refund)
    page.get_by_role("button", name=f"Retry the refund of order {orders[3].code}").click()
    expect(page.locator(".flash")).to_contain_text("money is on its way")
    expect(page.locator('[data-field="refunded"]')).to_have_text("12")
    expect(page.locator('[data-field="failed"]')).to_have_text("0")
