"""Webhook endpoints of integrations, the messages each change sends them and every attempt to deliver one."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Endpoint(models.Model):
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="endpoints", verbose_name=_("integration")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list, help_text=_("Empty: every event type."))
    # Filters (empty: no filter): agency and area ids, complaint category ids, permit type codes.
    agencies = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    permit_types = models.JSONField(default=list, blank=True)
    areas = models.JSONField(default=list, blank=True)
    document = models.TextField(
        _("subscription document"),
        blank=True,
        help_text=_("A GraphQL subscription selecting webhookEvent: the payload's data instead of the summary."),
    )
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    """One event for one endpoint: `webhook-id` is `msg_<uuid>`, the same on every retry. Messages of one case reach
    an endpoint in the order of its timeline (`event_seq`, then `seq`)."""

    seq = models.BigAutoField(primary_key=True)
    uid = models.UUIDField(unique=True)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="messages")
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="+")
    outbox = models.ForeignKey("cases.OutboxMessage", null=True, on_delete=models.SET_NULL, related_name="+")
    event_seq = models.PositiveIntegerField(default=0, help_text=_("The event's place in its case's timeline."))
    event_type = models.CharField(max_length=40)
    body = models.TextField(help_text=_("The JSON sent, emptied after the retention period once delivered."))
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    ready = models.BooleanField(
        default=False, help_text=_("It may go: the first open message of its case for its endpoint (delivery.promote).")
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook message")
        verbose_name_plural = _("webhook messages")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "outbox", "event_type"], name="webhook_message_once"),
        ]
        indexes = [
            models.Index(
                fields=["endpoint", "next_attempt_at", "seq"],
                condition=models.Q(ready=True, status__in=["pending", "sending"]),
                name="webhook_message_due",
            ),
            models.Index(fields=["endpoint", "case", "status"], name="webhook_message_order"),
        ]

    def __str__(self) -> str:
        return f"msg_{self.uid} {self.event_type} ({self.status})"

    @property
    def webhook_id(self) -> str:
        return f"msg_{self.uid.hex}"


class Attempt(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    manual = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, help_text=_("The first KB."))
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status_code or self.error}"
