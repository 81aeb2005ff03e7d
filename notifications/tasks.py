"""Celery tasks of the notification channels."""

from backend.celery import app
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
