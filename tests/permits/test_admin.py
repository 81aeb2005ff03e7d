"""Permit types in the admin: a new version from the current one, errors shown per field, nothing edited in place,
and each region's admin sees their own."""

from __future__ import annotations

import json

import pytest

from backend.permits.models import PermitType, PermitTypeVersion
from tests.helpers import admin_site

pytestmark = pytest.mark.django_db


def form_data(version: PermitTypeVersion, **changes) -> dict:
    data = {
        "region": version.permit_type.region_id,
        "code": version.permit_type.code,
        "name_id": version.name_id,
        "name_en": version.name_en,
        "description": version.description,
        "handling_agency": version.handling_agency_id,
        "reviewing_agencies": [a.pk for a in version.reviewing_agencies.all()],
        "applicant_kinds": json.dumps(version.applicant_kinds),
        "form_schema": json.dumps(version.form_schema),
        "documents": json.dumps(version.documents),
        "sla_working_days": version.sla_working_days,
        "fee": json.dumps(version.fee),
        "validity_days": version.validity_days,
        "deemed_approval": "on" if version.deemed_approval else "",
        "number_format": version.number_format,
    }
    data.update(changes)
    return data


def test_a_new_version_from_the_current_one(demo):
    admin = admin_site("admin.muba")
    first = PermitTypeVersion.objects.get()
    page = admin.get(f"/admin/permits/permittypeversion/add/?from={first.pk}")
    assert page.status_code == 200 and 'value="pbg"' in page.content.decode()
    response = admin.post("/admin/permits/permittypeversion/add/", form_data(first, sla_working_days=10))
    assert response.status_code == 302, response.content.decode()[:2000]
    second = PermitTypeVersion.objects.order_by("-number").first()
    assert (second.number, second.sla_working_days, second.permit_type_id) == (2, 10, first.permit_type_id)
    assert set(second.reviewing_agencies.values_list("code", flat=True)) == {"dpupr", "dlh"}
    first.refresh_from_db()
    assert first.sla_working_days == 14  # the old version is untouched
    # A written version cannot be changed in place.
    change = admin.post(f"/admin/permits/permittypeversion/{first.pk}/change/", form_data(first, name_id="X"))
    assert change.status_code == 403
    assert PermitTypeVersion.objects.get(pk=first.pk).name_id != "X"


def test_errors_are_shown_per_field_and_nothing_is_saved(demo):
    admin = admin_site("admin.muba")
    first = PermitTypeVersion.objects.get()
    bad_fee = json.dumps({"kind": "formula", "expression": "tinggi * 1000"})
    response = admin.post("/admin/permits/permittypeversion/add/", form_data(first, fee=bad_fee, sla_working_days=0))
    body = response.content.decode()
    assert response.status_code == 200 and "tinggi" in body and "365" in body
    assert PermitTypeVersion.objects.count() == 1


def test_admins_see_their_own_regions_types(demo):
    assert admin_site("admin.parepare").get("/admin/permits/permittypeversion/").content.decode().count("pbg") == 0
    assert "pbg" in admin_site("admin.muba").get("/admin/permits/permittypeversion/").content.decode()
    permit_type = PermitType.objects.get()
    off = admin_site("admin.muba").post(f"/admin/permits/permittype/{permit_type.pk}/change/", {"active": ""})
    assert off.status_code == 302
    permit_type.refresh_from_db()
    assert permit_type.active is False
