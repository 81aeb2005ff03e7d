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
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="attachments")
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

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position + 1} of {self.case}"
