"""Each process caches a region's categories and routing rules (backend.complaints.config): a change made through the
services or the admin site is seen by the very next submission."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.complaints import services
from backend.complaints.models import ComplaintCategory, RoutingRule
from backend.regions import services as region_services
from backend.regions.models import Agency, Region
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


def agency_of(result) -> str:
    assert result["errors"] == [], result
    return result["case"]["agency"]["code"]


def test_a_rule_changed_through_the_service_routes_the_next_submission(submit, places, category, muba_admin):
    assert agency_of(submit(category("sampah"), *places["lais"])) == "dlh"
    rule = RoutingRule.objects.get(region__code="16.06", order=20)
    rule.agency = Agency.objects.get(region__code="16.06", code="satpolpp")
    services.save_routing_rule(actor=muba_admin, routingrule=rule)
    assert agency_of(submit(category("sampah"), *places["lais"])) == "satpolpp"


def test_a_deleted_rule_no_longer_routes(submit, places, category, muba_admin):
    assert agency_of(submit(category("banjir"), *places["lais"])) == "bpbd"
    services.delete_routing_rule(actor=muba_admin, routingrule=RoutingRule.objects.get(region__code="16.06", order=40))
    assert agency_of(submit(category("banjir"), *places["lais"])) == "diskominfo"  # the triage agency


def test_a_deactivated_agency_receives_nothing_more(submit, places, category, muba_admin):
    assert agency_of(submit(category("sampah"), *places["lais"])) == "dlh"
    dlh = Agency.objects.get(region__code="16.06", code="dlh")
    dlh.active = False
    region_services.save_agency(actor=muba_admin, agency=dlh)
    assert agency_of(submit(category("sampah"), *places["lais"])) == "diskominfo"


def test_a_deactivated_category_is_refused_next(submit, places, category, muba_admin):
    sampah = category("sampah")
    assert submit(sampah, *places["lais"])["errors"] == []
    sampah.active = False
    services.save_category(actor=muba_admin, complaintcategory=sampah)
    result = submit(sampah, *places["lais"])
    assert [e["code"] for e in result["errors"]] == ["UNKNOWN_CATEGORY"]


def test_categories_added_and_deleted_are_seen_next(submit, places, category, demo, muba_admin):
    assert submit(category("sampah"), *places["lais"])["errors"] == []  # the configuration is cached now
    added = ComplaintCategory(region=demo["muba"], code="lainnya", name_id="Lainnya", name_en="Other")
    services.save_category(actor=muba_admin, complaintcategory=added)
    assert agency_of(submit(added, *places["lais"])) == "diskominfo"
    unused = ComplaintCategory(region=demo["muba"], code="lain-lain", name_id="Lain-lain", name_en="Misc")
    services.save_category(actor=muba_admin, complaintcategory=unused)
    assert submit(category("sampah"), *places["lais"])["errors"] == []  # cached again, with `unused`
    services.delete_category(actor=muba_admin, complaintcategory=ComplaintCategory.objects.get(pk=unused.pk))
    assert [e["code"] for e in submit(unused, *places["lais"])["errors"]] == ["UNKNOWN_CATEGORY"]


def test_a_rule_added_in_the_admin_site_routes_the_next_submission(submit, places, category, demo):
    assert agency_of(submit(category("sampah"), *places["lais"])) == "dlh"
    admin = Client()
    admin.force_login(staff_user("admin.muba"))
    muba = demo["muba"]
    response = admin.post(
        "/admin/complaints/routingrule/add/",
        {
            "region": muba.pk,
            "order": 1,
            "category": category("sampah").pk,
            "agency": Agency.objects.get(region=muba, code="dishub").pk,
            "note": "Kerja bakti",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert agency_of(submit(category("sampah"), *places["lais"])) == "dishub"


def test_saving_a_region_keeps_the_cache_versions_others_moved_on(demo, muba_admin):
    """An admin's form holds the region as it was loaded; saving it must not set the versions back, or processes
    would keep configuration cached at a version that looks current."""
    stale = Region.objects.get(code="16.06")
    services.save_routing_rule(actor=muba_admin, routingrule=RoutingRule.objects.get(region=stale, order=20))
    stale.name = "Kabupaten Musi Banyuasin"
    region_services.save_region(actor=muba_admin, region=stale)
    fresh = Region.objects.get(code="16.06")
    assert fresh.config_version == stale.config_version + 1
    assert fresh.name == "Kabupaten Musi Banyuasin"
