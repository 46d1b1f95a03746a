from celery import shared_task

from .dashboard_figures import earlier_days_warm


@shared_task(ignore_result=True)
def dashboard_warm() -> int:
    """Keep the dashboard's earlier days computed (celery beat, every WARM_SECONDS)."""
    return earlier_days_warm()
