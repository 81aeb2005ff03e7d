"""Celery tasks of webhook delivery (delivery.dispatch sends `webhooks.send` by name)."""

from __future__ import annotations

from celery import shared_task

import backend.celery  # noqa: F401
from notifications.webhooks import delivery


@shared_task(name="webhooks.send", acks_late=True, ignore_result=True)
def send_messages(seqs: list[int]) -> None:
    delivery.send(seqs)


@shared_task(name="webhooks.sweep", acks_late=True, ignore_result=True, expires=60)
def sweep() -> None:
    delivery.sweep()


@shared_task(name="webhooks.purge", acks_late=True, ignore_result=True)
def purge() -> None:
    delivery.purge()
