"""Online permits (perizinan): permit types, versioned, and applications — a draft until submitted, then the permit
details of a Case of kind `permit` that travels through `transition()` like any case."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicantKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    BUSINESS = "business", _("Business")


class PermitType(models.Model):
    """A kind of permit a region issues. What it asks and how it is handled lives in its versions: editing a type
    adds a version, and every application keeps the version it was filed under."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="permit_types")
    code = models.SlugField(max_length=40)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("permit type")
        verbose_name_plural = _("permit types")
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="permit_type_code_unique_in_region")]

    def __str__(self) -> str:
        return f"{self.code} ({self.region_id})"


class PermitTypeVersion(models.Model):
    """One edition of a permit type; never changed once written (services add a new one)."""

    permit_type = models.ForeignKey(PermitType, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name_id = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    handling_agency = models.ForeignKey("regions.Agency", on_delete=models.PROTECT, related_name="+")
    reviewing_agencies = models.ManyToManyField("regions.Agency", blank=True, related_name="+")
    applicant_kinds = models.JSONField(default=list)
    form_schema = models.JSONField(default=dict)
    # [{"code", "name_id", "name_en", "types": ["pdf", "jpeg", "png"], "max_bytes", "required", "many"}]
    documents = models.JSONField(default=list)
    sla_working_days = models.PositiveSmallIntegerField()
    # {"kind": "none"} | {"kind": "fixed", "amount": 150000} | {"kind": "formula", "expression": "…"}
    # | {"kind": "table", "field": "…", "brackets": [{"upto": 100, "amount": 500000}, {"upto": null, "amount": …}]}
    fee = models.JSONField(default=dict)
    validity_days = models.PositiveIntegerField(null=True, blank=True, help_text=_("Empty: valid indefinitely."))
    deemed_approval = models.BooleanField(
        default=False, help_text=_("Fiktif positif: flag cases whose deadline passes without a decision.")
    )
    number_format = models.CharField(max_length=100, default="{seq:04d}/{type}/{agency}/{year}")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("permit type version")
        verbose_name_plural = _("permit type versions")
        constraints = [models.UniqueConstraint(fields=["permit_type", "number"], name="permit_type_version_unique")]
        ordering = ["permit_type", "-number"]

    def __str__(self) -> str:
        return f"{self.name_en} v{self.number}"

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_id

    def requirement(self, code: str) -> dict | None:
        return next((doc for doc in self.documents if doc["code"] == code), None)


def _verify_token() -> str:
    return secrets.token_urlsafe(24)


class PermitApplication(models.Model):
    """An application: the applicant's draft, then (from submission) the permit details of its Case."""

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="permit_applications")
    type_version = models.ForeignKey(PermitTypeVersion, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="permit_applications"
    )
    case = models.OneToOneField("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="permit")
    applicant_kind = models.CharField(max_length=12, choices=ApplicantKind.choices, default=ApplicantKind.INDIVIDUAL)
    applicant_name = models.CharField(max_length=150, blank=True)
    nik_encrypted = models.TextField(blank=True)
    nik_hash = models.CharField(max_length=64, blank=True, db_index=True)
    nik_masked = models.CharField(max_length=32, blank=True)
    business_name = models.CharField(max_length=200, blank=True)
    nib = models.CharField(max_length=13, blank=True, help_text=_("Nomor Induk Berusaha (OSS), for businesses."))
    form_data = models.JSONField(default=dict, blank=True)
    revision_items = models.JSONField(default=list, blank=True)
    fee_amount = models.PositiveBigIntegerField(null=True, blank=True, help_text=_("Rupiah."))
    payment_reference = models.CharField(max_length=40, blank=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    permit_number = models.CharField(max_length=100, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    official_name = models.CharField(max_length=150, blank=True)
    certificate = models.ForeignKey(
        "media.Attachment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verify_token = models.CharField(max_length=40, unique=True, default=_verify_token, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    deemed_flagged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("permit application")
        verbose_name_plural = _("permit applications")
        indexes = [models.Index(fields=["applicant", "-created_at"])]

    def __str__(self) -> str:
        return self.case.tracking_code if self.case_id else f"draft {self.pk}"


class Recommendation(models.TextChoices):
    APPROVE = "approve", _("Approve")
    APPROVE_WITH_CONDITIONS = "approve_with_conditions", _("Approve with conditions")
    REJECT = "reject", _("Reject")


class PermitReview(models.Model):
    """A reviewing agency's part in the technical review: its recommendation and report, once recorded."""

    application = models.ForeignKey(PermitApplication, on_delete=models.CASCADE, related_name="reviews")
    agency = models.ForeignKey("regions.Agency", on_delete=models.PROTECT, related_name="+")
    recommendation = models.CharField(max_length=24, choices=Recommendation.choices, blank=True)
    note = models.TextField(blank=True)
    report = models.ForeignKey("media.Attachment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    inspection_date = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("technical review")
        verbose_name_plural = _("technical reviews")
        constraints = [models.UniqueConstraint(fields=["application", "agency"], name="one_review_per_agency")]
        # The reviews an agency still owes (permits.selectors.reviews_waiting_on, on every console queue page).
        indexes = [
            models.Index(fields=["agency"], condition=models.Q(recorded_at__isnull=True), name="permit_review_waiting")
        ]

    def __str__(self) -> str:
        return f"review by {self.agency_id} of {self.application_id}"


class PermitNumberSequence(models.Model):
    """The last permit number given per type and year (allocated with one upsert, like tracking codes)."""

    permit_type = models.ForeignKey(PermitType, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["permit_type", "year"], name="permit_number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.permit_type_id}/{self.year}: {self.last_value}"
