"""Integrations: the API clients of other agencies (the inspectorate, a command centre, PDAM, a provincial
dashboard, a bridge to SP4N-LAPOR!). An integration belongs to one region, may be granted others, holds scopes and
API keys (stored hashed, shown once), and every change to it is audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.actor import Grant, Scope

SCOPE_LABELS = {
    Scope.READ_CASES: _("Read the cases of its regions (never reporters' identities, NIKs or internal notes)"),
    Scope.READ_CONFIDENTIAL: _("Read the content of confidential complaints too"),
    Scope.MANAGE_WEBHOOKS: _("Manage its webhook endpoints"),
    Scope.SUBMIT: _("Submit complaints through Open311"),
}


class Integration(models.Model):
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="integrations",
        help_text=_("The region whose admins manage it."),
    )
    granted_regions = models.ManyToManyField(
        "regions.Region",
        verbose_name=_("other regions"),
        blank=True,
        related_name="granted_integrations",
        help_text=_("Regions it may read besides its own (a provincial dashboard): granted by those regions' admins."),
    )
    name = models.CharField(_("name"), max_length=120)
    contact_name = models.CharField(_("contact"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), help_text=_("Told when its webhooks break."))
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="integration",
        help_text=_("The account the complaints it files through Open311 belong to (made on its first one)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="integration_name_unique_in_region")]

    def __str__(self) -> str:
        return self.name

    def region_ids(self) -> frozenset[int]:
        return frozenset([self.region_id, *self.granted_regions.values_list("pk", flat=True)])

    def grant(self) -> Grant:
        """What it may do, as the Actor carries it."""
        return Grant(
            integration_id=self.pk,
            name=self.name,
            home_region_id=self.region_id,
            region_ids=self.region_ids(),
            scopes=frozenset(self.scopes),
        )


class ApiKey(models.Model):
    """`simpul_<prefix>_<secret>`: the prefix finds the key, the SHA-256 of the whole key proves it (a random
    256-bit secret needs no slow hash). Several may be active at once, for rotation."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(_("name"), max_length=80, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"simpul_{self.prefix}_…"


class AuditEntry(models.Model):
    """Who changed what of an integration: keys issued and revoked, scopes and regions, endpoints and secrets."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="audit")
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.integration_id} {self.action}"
