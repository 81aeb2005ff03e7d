"""Periodic tasks of permits."""

from celery import shared_task

from backend.permits import deemed


@shared_task(name="permits.flag_deemed_approvals", acks_late=True, ignore_result=True, expires=3000)
def flag_deemed_approvals() -> int:
    return deemed.flag_deemed_approvals()
