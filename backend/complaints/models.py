"""Complaints (pengaduan): categories per region, the complaint detail of a case, and routing rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class SlaUnit(models.TextChoices):
    HOURS = "hours", _("Working hours")
    DAYS = "days", _("Working days")


def localized_name(name_id: str, name_en: str) -> str:
    """A category's name in the active language."""
    return name_en if (get_language() or "id").startswith("en") else name_id


class ComplaintCategory(models.Model):
    """What a complaint is about (Jalan rusak, Lampu jalan mati, Sampah…). A category with children is a group:
    residents pick a child; routing rules may name either."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="complaint_categories"
    )
    code = models.SlugField(_("code"), max_length=40)
    name_id = models.CharField(_("name (Bahasa Indonesia)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    parent = models.ForeignKey(
        "self", verbose_name=_("group"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    icon = models.CharField(_("icon key"), max_length=40, blank=True)
    sla_value = models.PositiveSmallIntegerField(_("service level"), default=5, validators=[MinValueValidator(1)])
    sla_unit = models.CharField(_("service level unit"), max_length=5, choices=SlaUnit.choices, default=SlaUnit.DAYS)
    extra_schema = models.JSONField(
        _("extra fields (JSON Schema)"),
        default=dict,
        blank=True,
        help_text=_("A JSON Schema (draft 2020-12) object for the extra answers the app asks for."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("complaint category")
        verbose_name_plural = _("complaint categories")
        ordering = ["region", "sort_order", "code"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="category_code_unique_in_region")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized_name(self.name_id, self.name_en)

    def clean(self) -> None:
        if self.parent_id:
            if self.parent.region_id != self.region_id:
                raise ValidationError({"parent": _("The group must be in the same region.")})
            if self.parent.parent_id:
                raise ValidationError({"parent": _("Groups do not nest: pick a top-level category as the group.")})
        if self.extra_schema:
            if not isinstance(self.extra_schema, dict) or self.extra_schema.get("type", "object") != "object":
                raise ValidationError({"extra_schema": _("The extra fields schema must describe an object.")})
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(self.extra_schema)
            except SchemaError as exc:
                raise ValidationError(
                    {"extra_schema": _("Not a valid JSON Schema: %(error)s") % {"error": exc.message}}
                ) from exc


class Complaint(models.Model):
    """The complaint detail of a case (kind complaint)."""

    case = models.OneToOneField("cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="complaint")
    category = models.ForeignKey(
        ComplaintCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="complaints"
    )
    description = models.TextField(_("description"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("The reporter's name is shown only to the handling agency.")
    )
    confidential = models.BooleanField(_("confidential"), default=False, help_text=_("Hidden from public views."))
    extra = models.JSONField(_("extra answers"), default=dict, blank=True)
    media_url = models.URLField(
        _("media URL"), max_length=500, blank=True, help_text=_("A photo elsewhere (Open311's media_url): not fetched.")
    )
    published = models.BooleanField(_("approved for public view"), default=False)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.TextField(_("rating comment"), blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self) -> str:
        return str(self.case)


class RoutingRule(models.Model):
    """(category or group, optional area) → agency. Rules are tried by `order`; the first that matches wins."""

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    order = models.PositiveIntegerField(_("order"), default=100)
    category = models.ForeignKey(
        ComplaintCategory,
        verbose_name=_("category or group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: any category."),
    )
    area = models.ForeignKey(
        "regions.Area",
        verbose_name=_("area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        help_text=_("Empty: anywhere in the region."),
    )
    agency = models.ForeignKey("regions.Agency", verbose_name=_("agency"), on_delete=models.CASCADE)
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["region", "order", "id"]

    def __str__(self) -> str:
        what = self.category or _("any category")
        where = self.area or _("anywhere")
        return f"#{self.order}: {what} @ {where} → {self.agency}"

    def clean(self) -> None:
        errors = {}
        for name in ("category", "area", "agency"):
            related = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if related is not None and related.region_id != self.region_id:
                errors[name] = _("Must belong to the rule's region.")
        if errors:
            raise ValidationError(errors)
