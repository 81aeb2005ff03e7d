"""The Case core shared by complaints and permits: one status machine, one timeline, one SLA clock."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    PERMIT = "permit", _("Permit")


TRACKING_PREFIX = {CaseKind.COMPLAINT: "ADU", CaseKind.PERMIT: "IZN"}


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Case(models.Model):
    kind = models.CharField(_("kind"), max_length=10, choices=CaseKind.choices)
    tracking_code = models.CharField(_("tracking code"), max_length=20)
    # Foreign keys without an index of their own (db_index=False) are covered by an index in Meta: one that starts
    # with the column, or a partial one where the column is mostly NULL. Every index costs each new case an
    # insertion and every plan over the table a look.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    agency = models.ForeignKey(
        "regions.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
        db_index=False,
    )
    status = models.CharField(_("status"), max_length=32)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    h3_cell = models.CharField(_("H3 cell"), max_length=16, blank=True)  # indexed in Meta (equality only)
    area = models.ForeignKey(
        "regions.Area", verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    sla_paused_seconds = models.PositiveIntegerField(_("working time paused (seconds)"), default=0)
    # Working time left on the clock when it was paused; the deadline is set again from it on resume.
    sla_remaining_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    transfer_to = models.ForeignKey(
        "regions.Agency",
        verbose_name=_("being transferred to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incoming_transfers",
        db_index=False,
    )
    transfer_hops = models.PositiveSmallIntegerField(_("transfers so far"), default=0)
    # When the overdue sweep told the agency's supervisors, and escalated to the region's admins: each happens once.
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Service measures, in the region's working time, kept when they happen (dashboards aggregate them in SQL).
    first_response_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True, editable=False)
    met_sla = models.BooleanField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The app's key for one submission: a retry with the same key returns the same case instead of a second one.
    idempotency_key = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(fields=["region", "tracking_code"], name="case_tracking_code_unique_in_region"),
            models.UniqueConstraint(
                fields=["resident", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="case_idempotency_key_unique_per_resident",
            ),
        ]
        indexes = [
            models.Index(fields=["region", "kind", "status"]),
            models.Index(fields=["agency", "status"]),
            # The staff queue's default order (soonest deadline first), per agency and per region.
            models.Index(fields=["agency", "due_at"]),
            models.Index(fields=["region", "due_at"]),
            models.Index(fields=["resident", "-created_at"]),
            models.Index(fields=["h3_cell"], name="case_h3_cell"),
            models.Index(fields=["assignee"], condition=models.Q(assignee__isnull=False), name="case_assignee"),
            models.Index(
                fields=["transfer_to"], condition=models.Q(transfer_to__isnull=False), name="case_transfer_to"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_code


# Every column of a case, in the model's order: the explicit SQL that reads (complaints.selectors) and writes
# (cases.opening) whole cases names them; tests/test_sql.py checks them against the model.
CASE_COLUMNS = (
    "id", "kind", "tracking_code", "region_id", "agency_id", "assignee_id", "status", "priority", "resident_id",
    "lat", "lon", "h3_cell", "area_id", "submitted_at", "due_at", "sla_paused_at", "sla_paused_seconds",
    "sla_remaining_seconds", "transfer_to_id", "transfer_hops", "overdue_notified_at", "escalated_at",
    "first_response_at", "first_response_seconds", "resolved_at", "resolution_seconds", "met_sla", "closed_at",
    "idempotency_key", "version", "created_at", "updated_at",
)  # fmt: skip


class ParticipantRole(models.TextChoices):
    CO_REPORTER = "co_reporter", _("Co-reporter")


class CaseParticipant(models.Model):
    """A resident who follows a case besides its reporter (a co-reporter of the same problem): sees it, is notified."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_participations")
    role = models.CharField(max_length=16, choices=ParticipantRole.choices, default=ParticipantRole.CO_REPORTER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="participant_once_per_case")]

    def __str__(self) -> str:
        return f"{self.user} on {self.case}"


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("case events are append-only")

    def delete(self):
        raise TypeError("case events are append-only")


class CaseEvent(models.Model):
    """One entry of a case's timeline. Append-only, and chained: `hash = sha256(prev_hash + canonical event)`."""

    # Indexed by (case, seq) and, where there is one, by actor (Meta).
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_events",
        db_index=False,
    )
    visibility = models.CharField(max_length=8, choices=Visibility.choices)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)  # unique (Meta): a constraint, without a LIKE index beside it

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="event_seq_unique_in_case"),
            models.UniqueConstraint(fields=["hash"], name="event_hash_unique"),
        ]
        indexes = [models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="event_actor")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("case events are append-only")


class TrackingSequence(models.Model):
    """The last number handed out per (region, prefix, year): tracking codes are allocated under its row lock."""

    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE)
    prefix = models.CharField(max_length=3)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "prefix", "year"], name="tracking_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year} of region {self.region_id}: {self.last_value}"


class SurveyResponse(models.Model):
    """One reporter's SKM answers for a closed case (PermenPANRB 14/2017): nine elements, each 1 to 4."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="survey")
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="survey_responses")
    agency = models.ForeignKey(
        "regions.Agency", null=True, blank=True, on_delete=models.SET_NULL, related_name="survey_responses"
    )
    u1 = models.PositiveSmallIntegerField()
    u2 = models.PositiveSmallIntegerField()
    u3 = models.PositiveSmallIntegerField()
    u4 = models.PositiveSmallIntegerField()
    u5 = models.PositiveSmallIntegerField()
    u6 = models.PositiveSmallIntegerField()
    u7 = models.PositiveSmallIntegerField()
    u8 = models.PositiveSmallIntegerField()
    u9 = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("survey response (SKM)")
        verbose_name_plural = _("survey responses (SKM)")
        indexes = [models.Index(fields=["region", "agency", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(*[models.Q(**{f"u{i}__gte": 1, f"u{i}__lte": 4}) for i in range(1, 10)]),
                name="survey_answers_1_to_4",
            )
        ]

    def __str__(self) -> str:
        return f"SKM {self.case}"


# --- the outbox -------------------------------------------------------------------------------------------------


class Audience(models.TextChoices):
    USER = "user", _("A user (reporter, co-reporter, assignee)")
    AGENCY = "agency", _("An agency's queue")
    CASE = "case", _("Everyone watching the case")
    REGION = "region", _("The region's integrations (webhooks)")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """What must be delivered because of a change: a row per (event, audience), written in the same transaction as
    the change (backend.cases.outbox). The delivery layer (notifications) drains the table after COMMIT and retries
    what is left. The notification id receivers see, and use to drop duplicates, is the event's (one change, one id
    on every channel); the rows also serve replay to a subscriber that reconnects (notifications.selectors)."""

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
        db_table = "notifications_outboxmessage"  # its table from before the core owned it
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notificatio_status_6d08f9_idx"),
            # What one subscription's group was sent since a moment: the replay after a reconnect.
            models.Index(fields=["audience", "audience_id", "created_at"], name="outbox_audience_replay"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.audience} {self.audience_id} ({self.status})"
