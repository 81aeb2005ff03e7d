"""Periodic tasks of permits."""

from backend.celery import app
from backend.permits import services


@app.task(name="permits.flag_deemed_approvals", acks_late=True, ignore_result=True, expires=3000)
def flag_deemed_approvals() -> int:
    return services.flag_deemed_approvals()
