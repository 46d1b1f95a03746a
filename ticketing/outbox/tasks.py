from datetime import timedelta

from celery import shared_task

from . import services


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def deliver_message(message_id: int) -> bool:
    """Idempotent: the message row is claimed with a conditional update before sending."""
    return services.deliver(message_id)


@shared_task(ignore_result=True)
def relay_outbox() -> int:
    return services.relay_pending(older_than=timedelta(seconds=10))
