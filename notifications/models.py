"""What delivery keeps of its own: a push per notification and device, and each person's push preferences. The
outbox it drains is the case core's (backend.cases.models.OutboxMessage)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PushStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    DROPPED = "dropped", _("Not sent (token no longer valid)")


class PushDelivery(models.Model):
    """One notification to one device. A delivery recorded as sent is never sent again; one whose send was in flight
    when a worker died is sent again (at-least-once): the device drops it by the notification id in its data."""

    message = models.ForeignKey("cases.OutboxMessage", on_delete=models.CASCADE, related_name="pushes")
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
