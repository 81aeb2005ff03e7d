"""Periodic work on cases (Celery beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from backend.cases.sla import sweep_overdue


@shared_task(name="cases.sweep_overdue", acks_late=True)
def sweep_overdue_task() -> dict:
    result = sweep_overdue()
    return {"flagged": result.flagged, "escalated": result.escalated}
