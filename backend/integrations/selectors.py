"""Reads of integrations: the admins of an integration's region see it whole; an integration sees itself."""

from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.actor import Actor
from backend.integrations.models import Integration


def can_see(actor: Actor, integration: Integration) -> bool:
    return actor.administers(integration.region_id) or (
        actor.grant is not None and actor.grant.integration_id == integration.pk
    )


def region_integrations(actor: Actor, region_id: int) -> QuerySet[Integration]:
    """A region's integrations, for its admins (nothing for anyone else)."""
    if not actor.administers(region_id):
        return Integration.objects.none()
    return Integration.objects.filter(region_id=region_id).order_by("name")


def own_integration(actor: Actor) -> Integration | None:
    """The integration an API key belongs to."""
    if actor.grant is None:
        return None
    return Integration.objects.filter(pk=actor.grant.integration_id).first()
