"""Celery tasks of the notification channels."""

from backend.celery import app
from notifications import delivery
from notifications.sms import SMSError, get_sms_backend


@app.task(
    name="notifications.send_sms",
    autoretry_for=(SMSError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    acks_late=True,
)
def send_sms(to: str, text: str) -> None:
    get_sms_backend().send(to, text)


@app.task(name="notifications.deliver_outbox", acks_late=True, ignore_result=True)
def deliver_outbox(ids: list[str], live_sent: bool = False) -> None:
    """The rows a change just wrote: live (unless the committing process did), then their pushes. Whatever fails
    here is left to the sweep."""
    delivered = delivery.deliver(ids, live_sent=live_sent)
    if delivered.pushes_queued:
        delivery.send_pushes(delivered.pushes_queued)


@app.task(name="notifications.send_pushes", acks_late=True, ignore_result=True)
def send_pushes(ids: list[int]) -> None:
    """Pushes the outbox relay queued (notifications.relay). Whatever fails here is left to the sweep."""
    delivery.send_pushes(ids)


@app.task(name="notifications.sweep_outbox", acks_late=True, ignore_result=True, expires=60)
def sweep_outbox() -> None:
    delivery.sweep()
