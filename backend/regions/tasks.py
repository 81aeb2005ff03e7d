"""Periodic work on the calendar (Celery beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task
from django.utils import timezone

from backend.regions import calendar


@shared_task(name="regions.prepare_calendar", acks_late=True, ignore_result=True, expires=3600)
def prepare_calendar() -> list[int]:
    """This year's and next year's national days off, stored if missing for the current `holidays` version and
    categories: a web process then never works them out itself, not even on 1 January. Returns the years worked out
    now."""
    this_year = timezone.localdate().year
    prepared = calendar.prepare_national_days_off([this_year, this_year + 1])
    return [year for year, worked_out in prepared.items() if worked_out]
