from celery import shared_task

from .sweep import sweep


@shared_task(ignore_result=True)
def sweep_expired() -> dict:
    """Beat runs this every MARQUEE_SWEEP_INTERVAL seconds; safe to run twice at once."""
    result = sweep()
    return {"claims_deleted": result.claims_deleted, "orders_expired": result.orders_expired}


@shared_task(ignore_result=True)
def cancellation_refunds(run_id: int) -> int:
    """A cancelled screening's refunds (flows.mass_refunds), a batch at a time until none is
    left; each batch is its orders' own transactions, so a worker killed between or inside
    batches loses nothing done, and the next run of this task (cancelling again, beat's
    resume) starts at the first order left. Safe to run twice, at once too: each order is
    settled once."""
    from . import mass_refunds

    total = 0
    while done := mass_refunds.batch_process(run_id=run_id):
        total += done
    return total


@shared_task(ignore_result=True)
def cancellation_refunds_resume() -> int:
    """Beat: queue again the runs with orders left and no progress for a while (a worker
    killed mid-run, the broker down when they were queued)."""
    from . import mass_refunds

    stalled = mass_refunds.runs_stalled()
    for run_id in stalled:
        mass_refunds.run_queue(run_id)
    return len(stalled)
