"""Writes and reads of staff work beside the cases: reply templates (region admins keep them, staff use them)."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.actor import Actor
from backend.regions import services as region_services
from backend.work.models import ReplyTemplate


def save_reply_template(*, actor: Actor, replytemplate: ReplyTemplate) -> ReplyTemplate:
    return region_services.save_region_row(actor=actor, row=replytemplate)


def delete_reply_template(*, actor: Actor, replytemplate: ReplyTemplate) -> None:
    region_services.delete_region_row(actor=actor, row=replytemplate)


def reply_templates(agency_id: int | None) -> QuerySet[ReplyTemplate]:
    """The active templates of the agency that handles a case (none for a case without one)."""
    return ReplyTemplate.objects.filter(agency_id=agency_id, active=True) if agency_id else ReplyTemplate.objects.none()
