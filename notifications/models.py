"""The outbox: what must be delivered, written in the same transaction as the change that caused it.

A row per (event, audience). Delivery (WebSocket, push, webhooks) drains the table after commit and retries what
is left. The notification id receivers see, and use to drop duplicates, is the event's (one change, one id on every
channel); the rows also serve replay to a subscriber that reconnects (notifications.selectors).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    USER = "user", _("A user (reporter, co-reporter, assignee)")
    AGENCY = "agency", _("An agency's queue")
    CASE = "case", _("Everyone watching the case")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="outbox")
    event = models.ForeignKey("cases.CaseEvent", on_delete=models.PROTECT, related_name="outbox")
    audience = models.CharField(max_length=8, choices=Audience.choices)
    audience_id = models.BigIntegerField()
    event_type = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            # What one subscription's group was sent since a moment: the replay after a reconnect.
            models.Index(fields=["audience", "audience_id", "created_at"], name="outbox_audience_replay"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.audience} {self.audience_id} ({self.status})"


class PushStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DROPPED = "dropped", _("Not sent (token no longer valid)")


class PushDelivery(models.Model):
    """One notification to one device. A delivery recorded as sent is never sent again; one whose send was in flight
    when a worker died is sent again (at-least-once): the device drops it by the notification id in its data."""

    message = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="pushes")
    device = models.ForeignKey("accounts.Device", on_delete=models.CASCADE, related_name="pushes")
    status = models.CharField(max_length=8, choices=PushStatus.choices, default=PushStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True, help_text=_("The message name FCM returned."))

    class Meta:
        verbose_name = _("push delivery")
        verbose_name_plural = _("push deliveries")
        constraints = [models.UniqueConstraint(fields=["message", "device"], name="one_push_per_device")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.message_id} → device {self.device_id} ({self.status})"


class NotificationPreference(models.Model):
    """What a user wants pushed to their phones. Without a row: every event, at any hour."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="notification_preference")
    muted_events = models.JSONField(default=list, blank=True, help_text=_("Event kinds never pushed."))
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"
