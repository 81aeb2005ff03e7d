"""Attachments: photos and documents on cases, stored through Django's storage API (local folder or S3)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    DOCUMENT = "document", _("Document")


class Attachment(models.Model):
    """A file on a case. Photos are stored as re-encoded renditions (metadata stripped): never the upload itself.
    Keys are random, so a file's address cannot be guessed; clients get expiring URLs (media.storage)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A photo or document of a case; a permit application's documents belong to the application from its draft on,
    # and to its case too once it is submitted.
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    application = models.ForeignKey(
        "permits.PermitApplication", null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    requirement = models.CharField(max_length=40, blank=True, help_text=_("The permit type's document code."))
    filename = models.CharField(max_length=200, blank=True, help_text=_("As the uploader named it."))
    kind = models.CharField(max_length=10, choices=AttachmentKind.choices)
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField(default=0)
    storage_key = models.CharField(max_length=200)
    large_key = models.CharField(max_length=200, blank=True)
    small_key = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=40, help_text=_("Of the stored file, sniffed from its bytes."))
    size = models.PositiveIntegerField(help_text=_("Bytes uploaded."))
    sha256 = models.CharField(max_length=64, help_text=_("Of the bytes uploaded."))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    gps_lon = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["case", "position", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case__isnull=False) | models.Q(application__isnull=False),
                name="attachment_belongs_somewhere",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position + 1} of {self.case or self.application}"
