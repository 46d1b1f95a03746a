from celery import shared_task

from .heartbeats import WORKER, heartbeat_record


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Beat sends this every MARQUEE_HEARTBEAT_INTERVAL seconds; the worker that runs it says
    so. Messages expire after one interval: a worker back from the dead does not run a backlog."""
    heartbeat_record(component=WORKER)
