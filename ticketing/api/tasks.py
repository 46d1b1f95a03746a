from celery import shared_task

from .idempotency import purge_expired_records


@shared_task(ignore_result=True)
def purge_idempotency_records() -> int:
    return purge_expired_records()
