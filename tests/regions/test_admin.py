"""The admin site: a region admin sees and edits only their own region's rows."""

from __future__ import annotations

import pytest
from django.test import Client

from backend.regions import calendar
from backend.regions.models import Agency, Area, DayOff, NationalDaysOff
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


def test_changelists_show_only_the_own_region(muba_admin_site, demo):
    page = muba_admin_site.get("/admin/regions/agency/")
    assert page.status_code == 200
    shown = set(page.context["cl"].result_list.values_list("region__code", flat=True))
    assert shown == {"16.06"}
    areas = muba_admin_site.get("/admin/regions/area/").context["cl"].result_list
    assert set(areas.values_list("region__code", flat=True)) == {"16.06"}


def test_another_regions_rows_cannot_be_opened(muba_admin_site, demo):
    parepare_agency = Agency.objects.filter(region=demo["parepare"]).first()
    response = muba_admin_site.get(f"/admin/regions/agency/{parepare_agency.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert parepare_agency.name not in response.content.decode()


def test_editing_an_agency_goes_through_the_service(muba_admin_site, demo):
    agency = Agency.objects.get(region=demo["muba"], code="dishub")
    response = muba_admin_site.post(
        f"/admin/regions/agency/{agency.pk}/change/",
        {
            "region": demo["muba"].pk,
            "code": "dishub",
            "name": "Dinas Perhubungan Kab. Muba",
            "short_name": "DISHUB",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agency.refresh_from_db()
    assert agency.name == "Dinas Perhubungan Kab. Muba"


def test_region_choices_are_limited(muba_admin_site, demo):
    form = muba_admin_site.get("/admin/regions/agency/add/").context["adminform"].form
    assert list(form.fields["region"].queryset) == [demo["muba"]]


def test_national_days_off_are_visible_but_not_editable(muba_admin_site, demo):
    national = DayOff.objects.create(region=None, date="2026-12-24", name="Cuti bersama Natal")
    listing = muba_admin_site.get("/admin/regions/dayoff/").context["cl"].result_list
    assert national in listing
    page = muba_admin_site.get(f"/admin/regions/dayoff/{national.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False


def test_the_holidays_packages_days_off_are_visible_but_not_editable(muba_admin_site, demo):
    calendar.prepare_national_days_off([2026])
    row = NationalDaysOff.objects.get(year=2026)
    assert row in muba_admin_site.get("/admin/regions/nationaldaysoff/").context["cl"].result_list
    page = muba_admin_site.get(f"/admin/regions/nationaldaysoff/{row.pk}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert "Hari Kemerdekaan Republik Indonesia" in page.content.decode()
    assert muba_admin_site.get("/admin/regions/nationaldaysoff/add/").status_code == 403
    assert muba_admin_site.post(f"/admin/regions/nationaldaysoff/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert NationalDaysOff.objects.filter(pk=row.pk).exists()


def test_users_are_for_superusers(muba_admin_site):
    assert muba_admin_site.get("/admin/accounts/user/").status_code == 403


def test_staff_without_admin_role_have_no_admin(demo):
    client = Client()
    client.force_login(staff_user("pupr.staf"))
    assert client.get("/admin/regions/agency/").status_code == 302  # not is_staff: sent to the login page


def test_boundary_edit_is_validated(muba_admin_site, demo):
    area = Area.objects.get(region=demo["muba"], code="16.06.02")
    response = muba_admin_site.post(
        f"/admin/regions/area/{area.pk}/change/",
        {
            "region": demo["muba"].pk,
            "code": "16.06.02",
            "name": "Lais",
            "level": "kecamatan",
            "boundary": '{"type": "Point", "coordinates": [104, -2]}',
            "active": "on",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Polygon or MultiPolygon" in response.content.decode()
