"""Writes of integrations: made and changed by the admins of their region, keys issued (shown once) and revoked,
scopes and regions granted; every change audited. And the one read every keyed request makes: `authenticate`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.accounts.actor import Actor, Grant, Scope
from backend.accounts.models import User
from backend.errors import DomainError
from backend.integrations.errors import IntegrationErrorCode
from backend.integrations.models import ApiKey, AuditEntry, Integration
from backend.regions.models import Region

KEY_PREFIX = "simpul_"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most this often per key


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def audit(integration: Integration, actor: Actor | None, action: str, **detail) -> None:
    user = actor.user if actor is not None else None
    AuditEntry.objects.create(integration=integration, user=user, action=action, detail=detail)


def managed(actor: Actor, integration_id: int) -> Integration:
    """An integration the actor administers (its home region's admins); others are NOT_FOUND."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None or not actor.administers(integration.region_id):
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("No such integration."))
    return integration


def _scopes(values) -> list[str]:
    try:
        scopes = sorted({Scope(value) for value in values})
    except ValueError:
        known = ", ".join(Scope)
        message = _("Scopes are %(known)s.") % {"known": known}
        raise DomainError(IntegrationErrorCode.INVALID, message, field="scopes") from None
    return [str(scope) for scope in scopes]


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(IntegrationErrorCode.INVALID, _("This cannot be empty."), field=field)
    if len(value) > limit:
        message = _("Write up to %(limit)d characters.") % {"limit": limit}
        raise DomainError(IntegrationErrorCode.INVALID, message, field=field)
    return value


def create_integration(
    *, actor: Actor, region_id: int, name: str, contact_email: str, contact_name: str = "", scopes=()
) -> Integration:
    if not actor.administers(region_id):
        raise DomainError(IntegrationErrorCode.FORBIDDEN, _("Only admins of this region may do this."), field="region")
    name = _text(name, "name", 120)
    contact_email = _email(contact_email)
    if Integration.objects.filter(region_id=region_id, name=name).exists():
        raise DomainError(IntegrationErrorCode.INVALID, _("This region has an integration of that name."), field="name")
    with transaction.atomic():
        integration = Integration.objects.create(
            region_id=region_id,
            name=name,
            contact_name=_text(contact_name, "contactName", 120, required=False),
            contact_email=contact_email,
            scopes=_scopes(scopes),
        )
        audit(integration, actor, "created", name=name, scopes=integration.scopes)
    return integration


def _email(value: str) -> str:
    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        message = _("Give a valid e-mail address.")
        raise DomainError(IntegrationErrorCode.INVALID, message, field="contactEmail") from None
    return value


def update_integration(
    *, actor: Actor, integration_id: int, name=None, contact_email=None, contact_name=None, scopes=None, active=None
) -> Integration:
    """Change what is given; each change is audited with the values before and after."""
    with transaction.atomic():
        integration = managed(actor, integration_id)
        changes = {}
        if name is not None:
            changes["name"] = _text(name, "name", 120)
        if contact_email is not None:
            changes["contact_email"] = _email(contact_email)
        if contact_name is not None:
            changes["contact_name"] = _text(contact_name, "contactName", 120, required=False)
        if scopes is not None:
            changes["scopes"] = _scopes(scopes)
        if active is not None:
            changes["active"] = bool(active)
        changed = {field: value for field, value in changes.items() if getattr(integration, field) != value}
        if not changed:
            return integration
        before = {field: getattr(integration, field) for field in changed}
        for field, value in changed.items():
            setattr(integration, field, value)
        integration.save(update_fields=list(changed))
        audit(integration, actor, "changed", before=before, after=changed)
    return integration


def grant_region(*, actor: Actor, integration_id: int, region_id: int, granted: bool = True) -> Integration:
    """A region's admins let another region's integration (a provincial dashboard) read their region, or stop."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("No such integration."))
    if not actor.administers(region_id) or region_id == integration.region_id:
        raise DomainError(IntegrationErrorCode.FORBIDDEN, _("Only admins of this region may do this."), field="region")
    region = Region.objects.get(pk=region_id)
    with transaction.atomic():
        if granted:
            integration.granted_regions.add(region)
        else:
            integration.granted_regions.remove(region)
        audit(integration, actor, "region_granted" if granted else "region_withdrawn", region=region.code)
    return integration


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # the whole key, shown this once


def issue_key(*, actor: Actor, integration_id: int, name: str = "") -> IssuedKey:
    with transaction.atomic():
        integration = managed(actor, integration_id)
        prefix = secrets.token_hex(6)
        secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey.objects.create(
            integration=integration,
            name=_text(name, "name", 80, required=False),
            prefix=prefix,
            digest=digest(secret),
            created_by=actor.user,
        )
        audit(integration, actor, "key_issued", key=prefix, name=key.name)
    return IssuedKey(key, secret)


def revoke_key(*, actor: Actor, key_id: int) -> ApiKey:
    key = ApiKey.objects.select_related("integration").filter(pk=key_id).first()
    if key is None or not actor.administers(key.integration.region_id):
        raise DomainError(IntegrationErrorCode.NOT_FOUND, _("No such key."))
    if key.revoked_at is not None:
        raise DomainError(IntegrationErrorCode.INVALID_STATE, _("This key is revoked already."))
    with transaction.atomic():
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(key.integration, actor, "key_revoked", key=key.prefix)
    return key


def authenticate(secret: str) -> Grant | None:
    """The grant of an active integration's unrevoked key, or None. Compares digests in constant time."""
    if not secret.startswith(KEY_PREFIX):
        return None
    prefix = secret[len(KEY_PREFIX) :].partition("_")[0]
    key = (
        ApiKey.objects.select_related("integration")
        .filter(prefix=prefix, revoked_at__isnull=True, integration__active=True)
        .first()
    )
    if key is None or not secrets.compare_digest(key.digest, digest(secret)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.integration.grant()


def account_of(grant: Grant):
    """The account an integration files complaints under (Open311), made on its first submission: no password, no
    phone; its complaints are the integration's, never a resident's."""
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=grant.integration_id)
        if integration.account_id is None:
            account = User(username=f"integration-{integration.pk}", full_name=integration.name[:150])
            account.set_unusable_password()
            account.save()
            integration.account = account
            integration.save(update_fields=["account"])
    return integration.account


def save_integration_row(*, actor: Actor, integration: Integration) -> Integration:
    """The admin site's save: a new integration through create_integration, a changed one through
    update_integration, so the same checks and the audit apply."""
    if integration.pk is None:
        created = create_integration(
            actor=actor,
            region_id=integration.region_id,
            name=integration.name,
            contact_email=integration.contact_email,
            contact_name=integration.contact_name,
            scopes=integration.scopes,
        )
        integration.pk = created.pk
        return created
    return update_integration(
        actor=actor,
        integration_id=integration.pk,
        name=integration.name,
        contact_email=integration.contact_email,
        contact_name=integration.contact_name,
        scopes=integration.scopes,
        active=integration.active,
    )
