"""Staff cancel a screening from `/staff/cancellations/` (issue 11): a manager of the cinema
chooses it, gives a reason and confirms; sales stop, the refunds run, the page shows them and
lists any that failed with a retry button. Another cinema's screening does not exist (404); the
box office may not cancel (403)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.providers import sandbox
from payments.providers.base import RefundFailed
from tests import factories
from tests.flows.mass_cancel_support import big_screening, paid_orders
from tests.staff.support import signed_in, staff_user
from ticketing.audit.models import AuditEntry
from ticketing.flows.models import CancellationItem, CancellationRun, ItemStatus
from ticketing.flows.screenings import screening_cancel
from ticketing.orders.models import OrderStatus
from ticketing.screenings.models import Screening, ScreeningStatus
from ticketing.staff import roles

pytestmark = pytest.mark.django_db

real_refund = sandbox.SandboxProvider.refund


@pytest.fixture
def here(cinema):
    screening = big_screening(cinema, seats=20)
    orders = paid_orders(screening, 4)
    return screening, orders


@pytest.fixture
def elsewhere():
    other = factories.cinema(name="Elsewhere")
    screening = big_screening(other, seats=20)
    paid_orders(screening, 2)
    return screening


@pytest.fixture
def manager(client, cinema):
    return signed_in(client, staff_user(roles.MANAGER, cinema, username="manon"))


def cancel_on_the_page(client, screening, django_capture_on_commit_callbacks, **data):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("staff:cancellation_new", args=[screening.pk]),
            {"reason": "projector broken", "confirm": "on", **data},
        )


def status_of(screening) -> str:
    return Screening.objects.get(pk=screening.pk).status


def test_a_manager_sees_their_cinemas_screenings_with_what_each_sold(manager, here, elsewhere):
    screening, _ = here

    page = manager.get(reverse("staff:cancellations"))

    assert page.status_code == 200
    text = page.content.decode()
    assert screening.film.title in text and elsewhere.film.title not in text
    row = text[text.index(screening.film.title) :]
    assert '<td class="num">4</td>' in row[:600]  # four tickets, four paid orders


def test_another_cinemas_screening_and_its_cancellation_answer_404(manager, elsewhere):
    run_id = screening_cancel(screening_id=elsewhere.pk, actor="user:99").run_id

    assert manager.get(reverse("staff:cancellation_new", args=[elsewhere.pk])).status_code == 404
    answer = manager.post(
        reverse("staff:cancellation_new", args=[elsewhere.pk]),
        {"reason": "x", "confirm": "on"},
    )
    assert answer.status_code == 404
    assert manager.get(reverse("staff:cancellation", args=[run_id])).status_code == 404
    assert manager.get(reverse("staff:cancellation_progress", args=[run_id])).status_code == 404
    item = CancellationItem.objects.filter(run_id=run_id).first()
    retry = reverse("staff:cancellation_retry", args=[run_id, item.pk])
    assert manager.post(retry).status_code == 404


def test_the_box_office_may_not_cancel_a_screening(client, cinema, here):
    screening, _ = here
    signed_in(client, staff_user(roles.BOX_OFFICE, cinema))

    assert client.get(reverse("staff:cancellations")).status_code == 403
    answer = client.post(
        reverse("staff:cancellation_new", args=[screening.pk]),
        {"reason": "x", "confirm": "on"},
    )
    assert answer.status_code == 403
    assert status_of(screening) == ScreeningStatus.SCHEDULED


def test_cancelling_needs_a_reason_and_the_confirmation(manager, here):
    screening, _ = here

    answer = manager.post(reverse("staff:cancellation_new", args=[screening.pk]), {"reason": "x"})

    assert answer.status_code == 400
    assert "Tick the box to confirm" in answer.content.decode()
    assert status_of(screening) == ScreeningStatus.SCHEDULED


def test_cancelling_on_the_page_refunds_everyone_and_shows_the_progress(
    manager, here, django_capture_on_commit_callbacks, mailoutbox
):
    screening, _ = here
    form = manager.get(reverse("staff:cancellation_new", args=[screening.pk]))
    assert form.status_code == 200 and "4</strong> paid order(s)" in form.content.decode()

    answer = cancel_on_the_page(manager, screening, django_capture_on_commit_callbacks)

    run = CancellationRun.objects.get(screening=screening)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("staff:cancellation", args=[run.pk])
    assert status_of(screening) == ScreeningStatus.CANCELLED
    assert {o.status for o in screening.orders.all()} == {OrderStatus.REFUNDED}
    assert len(mailoutbox) == 4
    page = manager.get(answer["Location"])
    assert page.status_code == 200
    assert 'data-field="refunded">4<' in page.content.decode()
    assert "staff-cancel.js" in page.content.decode()
    progress = manager.get(reverse("staff:cancellation_progress", args=[run.pk])).json()
    assert (progress["refunded"], progress["failed"], progress["left"]) == (4, 0, 0)
    entry = AuditEntry.objects.get(action="screening.cancelled")
    assert entry.actor_name == "manon" and "projector broken" in entry.summary
    # Submitting again (a second click) refunds no one twice and shows the same run.
    again = cancel_on_the_page(manager, screening, django_capture_on_commit_callbacks)
    assert again["Location"] == answer["Location"]
    assert len(mailoutbox) == 4
    assert (
        manager.get(reverse("staff:cancellation_new", args=[screening.pk]))["Location"]
        == (answer["Location"])
    )


def test_a_refund_that_failed_is_listed_with_its_reason_and_retried_from_the_page(
    manager, here, django_capture_on_commit_callbacks, monkeypatch
):
    screening, orders = here
    refused = orders[1]

    def refund(self, payment, amount, *, idempotency_key):
        if payment.order_id == refused.pk:
            raise RefundFailed("sbx_re_no", "failed", "expired_or_canceled_card")
        return real_refund(self, payment, amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(sandbox.SandboxProvider, "refund", refund)
    cancel_on_the_page(manager, screening, django_capture_on_commit_callbacks)
    run = CancellationRun.objects.get(screening=screening)

    page = manager.get(reverse("staff:cancellation", args=[run.pk])).content.decode()
    assert refused.code in page and "expired_or_canceled_card" in page
    assert manager.get(reverse("staff:cancellation_progress", args=[run.pk])).json()[
        "failed_orders"
    ] == [
        {
            "order": refused.code,
            "reason": "refused by the provider: expired_or_canceled_card",
            "item": CancellationItem.objects.get(order=refused).pk,
        }
    ]

    monkeypatch.setattr(sandbox.SandboxProvider, "refund", real_refund)
    item = CancellationItem.objects.get(order=refused)
    retried = manager.post(reverse("staff:cancellation_retry", args=[run.pk, item.pk]))

    assert retried.status_code == 302
    assert CancellationItem.objects.get(pk=item.pk).status == ItemStatus.REFUNDED
    again = manager.post(reverse("staff:cancellation_retry", args=[run.pk, item.pk]), follow=True)
    assert "Only a refund that failed can be retried" in again.content.decode()
    assert AuditEntry.objects.filter(action="screening.cancellation_refund_retried").count() == 1
