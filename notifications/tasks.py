"""Celery tasks of the notification channels. The project's app (backend.celery) is imported so that it is the
current app wherever these are sent from (a web process loads Celery only then); it imports nothing of ours back.
"""

import logging

from celery import shared_task
from kombu.exceptions import OperationalError

import backend.celery  # noqa: F401
from backend import breaker
from backend.cases.models import OutboxMessage
from notifications import delivery
from notifications.sms import SMSError, get_sms_backend

logger = logging.getLogger("simpul.notifications")


@shared_task(
    name="notifications.send_sms",
    autoretry_for=(SMSError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    acks_late=True,
)
def send_sms(to: str, text: str) -> None:
    get_sms_backend().send(to, text)


@shared_task(name="notifications.deliver_outbox", acks_late=True, ignore_result=True)
def deliver_outbox(ids: list[str], live_sent: bool = False) -> None:
    """The rows a change just wrote: live (unless the committing process did), then their pushes. Whatever fails
    here is left to the sweep."""
    delivered = delivery.deliver(ids, live_sent=live_sent)
    if delivered.pushes_queued:
        delivery.send_pushes(delivered.pushes_queued)


@shared_task(name="notifications.send_pushes", acks_late=True, ignore_result=True)
def send_pushes(ids: list[int]) -> None:
    """Pushes the outbox relay queued (notifications.relay). Whatever fails here is left to the sweep."""
    delivery.send_pushes(ids)


@shared_task(name="notifications.sweep_outbox", acks_late=True, ignore_result=True, expires=60)
def sweep_outbox() -> None:
    delivery.sweep()


# --- handing rows on from the process that wrote them (no relay: the embedded default) -----------------------------


def hand_off(rows: list[OutboxMessage]) -> None:
    """The core's hand-off after COMMIT without the relay (settings.OUTBOX_HANDOFF): the live messages from this
    process, then the rest (pushes) to a worker."""
    enqueue([str(row.pk) for row in rows], live_sent=delivery.publish(delivery.live_messages(rows)))


def enqueue(ids: list[str], *, live_sent: bool = False) -> None:
    """Hand the rows to a worker. Never raises: the change is committed, and rows a worker never got are found by
    the sweep (also at once while the broker is known to be away)."""
    if not breaker.BROKER.available():
        return
    try:
        deliver_outbox.apply_async(args=[ids], kwargs={"live_sent": live_sent}, retry=False)
    except OperationalError as exc:  # the broker is away
        breaker.BROKER.failed(exc)
    except Exception:  # with eager tasks, the delivery itself failed: the sweep will retry
        logger.warning("Outbox rows %s left for the sweep", ids, exc_info=True)
    else:
        breaker.BROKER.succeeded()
