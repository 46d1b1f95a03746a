from celery import shared_task

from .sweep import sweep


@shared_task(ignore_result=True)
def sweep_expired() -> dict:
    """Beat runs this every MARQUEE_SWEEP_INTERVAL seconds; safe to run twice at once."""
    result = sweep()
    return {"claims_deleted": result.claims_deleted, "orders_expired": result.orders_expired}
