"""Integrations in the admin site: a region admin makes, keys and revokes its own region's, and sees no other's."""

from __future__ import annotations

import pytest

from backend.integrations.models import ApiKey, AuditEntry, Integration
from tests.helpers import admin_site

pytestmark = pytest.mark.django_db


def test_a_region_admin_makes_an_integration_and_issues_a_key(muba_admin_site, demo, integration):
    response = muba_admin_site.post(
        "/admin/integrations/integration/add/",
        {
            "region": demo["muba"].pk,
            "name": "Inspektorat",
            "contact_name": "Bu Rina",
            "contact_email": "rina@inspektorat.example",
            "scopes": ["cases:read"],
            "active": "on",
            "keys-TOTAL_FORMS": 0,
            "keys-INITIAL_FORMS": 0,
            "audit-TOTAL_FORMS": 0,
            "audit-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Integration.objects.get(name="Inspektorat")
    assert made.scopes == ["cases:read"] and AuditEntry.objects.filter(integration=made, action="created").exists()
    response = muba_admin_site.post(
        "/admin/integrations/integration/",
        {"action": "issue_key", "_selected_action": [made.pk]},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any("simpul_" in text for text in shown)
    key = ApiKey.objects.get(integration=made)
    assert key.digest not in " ".join(shown)
    muba_admin_site.post("/admin/integrations/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_another_regions_admin_sees_none_of_it(integration):
    parepare = admin_site("admin.parepare")
    listed = parepare.get("/admin/integrations/integration/")
    assert listed.status_code == 200 and list(listed.context["cl"].result_list) == []
    opened = parepare.get(f"/admin/integrations/integration/{integration.pk}/change/")
    assert opened.status_code == 302 and opened["Location"] == "/admin/"  # "does not exist", as for any other id
