"""The Django admin made fit for a region admin (issue 16): Simpul's name, statuses by their translated names, a
case's description, photos and timeline, no other region's names in filters, no resident's draft, and the reporter
of an anonymous complaint hidden exactly as in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from backend.accounts.actor import Actor
from backend.cases.models import Case
from backend.cases.workflow import STATUS_LABELS
from backend.permits import applicant
from backend.permits.models import PermitApplication
from tests.helpers import admin_site

pytestmark = pytest.mark.django_db


def test_the_admin_is_simpuls(muba_admin_site):
    assert "Simpul" in muba_admin_site.get(reverse("admin:index")).content.decode()


def test_filters_name_only_the_admins_region(muba_admin_site, road_complaint, submit, category, places):
    submit(category("jalan-rusak"), *places["parepare"])  # a case of the other region exists
    html = muba_admin_site.get(reverse("admin:cases_case_changelist")).content.decode()
    assert "Musi Banyuasin" in html and "Parepare" not in html
    assert str(STATUS_LABELS["routed"]) in html  # the status by its name, in the list and in the filter
    rules = muba_admin_site.get(reverse("admin:complaints_routingrule_changelist")).content.decode()
    assert "Parepare" not in rules
    filter_block = rules.split('id="changelist-filter"', 1)[-1]
    assert filter_block.count(">DPUPR<") + filter_block.count("Dinas Pekerjaan Umum") <= 1


def test_the_case_page_shows_description_and_timeline(muba_admin_site, road_complaint):
    page = muba_admin_site.get(reverse("admin:cases_case_change", args=[road_complaint.pk])).content.decode()
    assert road_complaint.complaint.description in page
    assert "routed" in page and str(STATUS_LABELS["routed"]) in page


def test_anonymous_reporters_are_hidden_as_in_the_api(demo, submit, category, places):
    data = submit(category("jalan-rusak"), *places["lais"], anonymous=True)
    case = Case.objects.get(tracking_code=data["case"]["trackingCode"])
    page = admin_site("admin.muba").get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert case.resident.full_name not in page
    handling = admin_site("pupr.staf")  # not an admin-site user: no page at all
    assert handling.get(reverse("admin:cases_case_change", args=[case.pk])).status_code in (302, 403)


def test_residents_drafts_are_not_shown(muba_admin_site, resident):
    draft = applicant.create_draft(
        actor=Actor.for_user(resident), region="16.06", permit_type_code="pbg", applicant_kind="individual"
    )
    listed = muba_admin_site.get(reverse("admin:permits_permitapplication_changelist")).content.decode()
    assert f"draft {draft.pk}" not in listed
    assert muba_admin_site.get(reverse("admin:permits_permitapplication_change", args=[draft.pk])).status_code == 302
    assert PermitApplication.objects.filter(pk=draft.pk).exists()
