"""Staff: cancelling a screening (`/staff/cancellations/`), with its refunds to watch.

- `/staff/cancellations/`: the member's cinemas' screenings that have not ended, with what each
  has sold, and the cancellations of the last weeks with their progress;
- `/staff/cancellations/new/<screening id>/`: the reason and a confirmation, then
  `flows.screenings.screening_cancel` (sales stop at once; a Celery task refunds every paid
  order in batches);
- `/staff/cancellations/<run id>/`: refunded / failed / left, refreshed by
  `static/marquee/staff-cancel.js` from `.../progress.json` (a reload does the same without
  JavaScript), and the refunds that failed, each with its reason and a *Retry* button.

Every page needs `staff.cancel_screenings` and shows only the member's cinemas: another
cinema's screening or run answers 404. Writes go through `flows.screenings` and
`flows.mass_refunds`, which audit them.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from ticketing import errors
from ticketing.flows import mass_refunds
from ticketing.flows.models import CancellationRun, ItemStatus
from ticketing.flows.screenings import screening_cancel
from ticketing.money import format_money
from ticketing.orders.models import OrderStatus
from ticketing.screenings.models import Screening, ScreeningStatus

from .access import narrow, staff_page

PERMISSION = "cancel_screenings"
LISTED = 200  # screenings on the list page at most (the soonest first)
RECENT_RUNS = timedelta(days=30)


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200,
        label="Reason (staff read it in the audit log and each order's history)",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    confirm = forms.BooleanField(
        label="I understand: sales stop now and every buyer is refunded and emailed.",
    )


def _screenings(user):
    return narrow(
        Screening.objects.select_related("film", "auditorium__cinema"),
        user,
        "auditorium__cinema_id",
    )


def _runs(user):
    return narrow(
        CancellationRun.objects.select_related("screening__film", "screening__auditorium__cinema"),
        user,
        "screening__auditorium__cinema_id",
    )


def _local(screening):
    return timezone.localtime(screening.starts_at, screening.auditorium.cinema.tz)


@staff_page(PERMISSION)
def cancellations(request):
    now = timezone.now()
    paid = Q(orders__status=OrderStatus.PAID)
    screenings = list(
        _screenings(request.user)
        .filter(status=ScreeningStatus.SCHEDULED, ends_at__gt=now)
        .annotate(
            paid_orders=Count("orders", filter=paid, distinct=True),
            sold=Count("orders__tickets", filter=paid & Q(orders__tickets__refunded_at=None)),
        )
        .order_by("starts_at", "pk")[:LISTED]
    )
    for screening in screenings:
        screening.local_start = _local(screening)
    runs = list(_runs(request.user).filter(started_at__gte=now - RECENT_RUNS)[:50])
    for run in runs:
        run.progress = mass_refunds.run_progress(run_id=run.pk)
        run.local_start = _local(run.screening)
    return render(
        request,
        "staff/cancellations.html",
        {"title": "Cancel a screening", "screenings": screenings, "runs": runs},
    )


@staff_page(PERMISSION)
@require_http_methods(["GET", "POST"])
def cancel_new(request, screening_id: int):
    screening = get_object_or_404(_screenings(request.user), pk=screening_id)
    run = CancellationRun.objects.filter(screening=screening).first()
    if run is not None and request.method == "GET":
        return HttpResponseRedirect(reverse("staff:cancellation", args=[run.pk]))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = screening_cancel(
                screening_id=screening.pk,
                actor=f"user:{request.user.pk}",
                actor_name=request.user.get_username(),
                reason=form.cleaned_data["reason"],
            )
        except errors.DomainError as refused:
            form.add_error(None, refused.message)
        else:
            if done.already:
                messages.info(request, "This screening was already cancelled: its refunds go on.")
            else:
                messages.success(
                    request,
                    f"Screening cancelled: sales stopped, {done.holds_released} hold(s) released, "
                    f"{done.orders_cancelled} unpaid order(s) cancelled, {done.paid_orders} paid "
                    "order(s) being refunded.",
                )
            return HttpResponseRedirect(reverse("staff:cancellation", args=[done.run_id]))
    paid = Q(status=OrderStatus.PAID)
    counts = screening.orders.aggregate(
        paid_orders=Count("pk", filter=paid, distinct=True),
        sold=Count("tickets", filter=paid & Q(tickets__refunded_at=None)),
        pending=Count("pk", filter=Q(status=OrderStatus.PENDING_PAYMENT), distinct=True),
    )
    return render(
        request,
        "staff/cancel_new.html",
        {
            "title": "Cancel a screening",
            "screening": screening,
            "local_start": _local(screening),
            "counts": counts,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _run_for(user, run_id: int) -> CancellationRun:
    return get_object_or_404(_runs(user), pk=run_id)


@staff_page(PERMISSION)
def cancellation(request, run_id: int):
    run = _run_for(request.user, run_id)
    progress = mass_refunds.run_progress(run_id=run.pk)
    failed = list(mass_refunds.items_failed(run_id=run.pk))
    for item in failed:
        item.total_display = format_money(item.order.total, item.order.currency)
    return render(
        request,
        "staff/cancellation.html",
        {
            "title": "Cancellation",
            "run": run,
            "screening": run.screening,
            "local_start": _local(run.screening),
            "progress": progress,
            "failed": failed,
        },
    )


@staff_page(PERMISSION)
def cancellation_progress(request, run_id: int):
    run = _run_for(request.user, run_id)
    progress = mass_refunds.run_progress(run_id=run.pk)
    failed = [
        {"order": item.order.code, "reason": item.failure_reason, "item": item.pk}
        for item in mass_refunds.items_failed(run_id=run.pk)[:200]
    ]
    return JsonResponse(
        {"run": run.pk, **progress.as_dict(), "failed_orders": failed},
        headers={"Cache-Control": "no-store"},
    )


@staff_page(PERMISSION)
@require_POST
def cancellation_retry(request, run_id: int, item_id: int):
    run = _run_for(request.user, run_id)
    try:
        outcome = mass_refunds.item_retry(item_id=item_id, run_id=run.pk, user=request.user)
    except errors.DomainError as refused:
        messages.error(request, refused.message)
    else:
        if outcome == ItemStatus.FAILED:
            messages.error(request, "The refund failed again: see its reason below.")
        elif outcome == ItemStatus.PENDING:
            messages.info(request, "The refund is being retried: watch it below.")
        else:
            messages.success(request, "Refund retried: the buyer's money is on its way.")
    return HttpResponseRedirect(reverse("staff:cancellation", args=[run.pk]))


@staff_page(PERMISSION)
@require_POST
def cancellation_retry_failed(request, run_id: int):
    run = _run_for(request.user, run_id)
    count = mass_refunds.items_retry_failed(run_id=run.pk, user=request.user)
    if count:
        messages.success(request, f"{count} failed refund(s) asked for again: watch them below.")
    else:
        messages.info(request, "No failed refund to retry.")
    return HttpResponseRedirect(reverse("staff:cancellation", args=[run.pk]))


urlpatterns = [
    path("", cancellations, name="cancellations"),
    path("new/<int:screening_id>/", cancel_new, name="cancellation_new"),
    path("<int:run_id>/", cancellation, name="cancellation"),
    path("<int:run_id>/progress.json", cancellation_progress, name="cancellation_progress"),
    path(
        "<int:run_id>/retry/<int:item_id>/",
        cancellation_retry,
        name="cancellation_retry",
    ),
    path("<int:run_id>/retry-failed/", cancellation_retry_failed, name="cancellation_retry_failed"),
]
