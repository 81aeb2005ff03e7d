"""What staff work with beside the cases themselves: an agency's reply templates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.regions.models import Agency, Region


class ReplyTemplate(models.Model):
    """A ready answer an agency's staff start a reply to a reporter from (edited before it is sent)."""

    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="reply_templates"
    )
    title = models.CharField(_("title"), max_length=100)
    text = models.TextField(_("text"), max_length=4000)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["agency", "title"]
        constraints = [models.UniqueConstraint(fields=["agency", "title"], name="reply_template_title_once")]

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.agency_id and self.region_id and self.agency.region_id != self.region_id:
            raise ValidationError({"agency": _("Choose an agency of this region.")})
