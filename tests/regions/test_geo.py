"""Area boundaries (validation on save) and point-in-area look-ups through the cached STRtree."""

from __future__ import annotations

import pytest

from backend.accounts.actor import Actor
from backend.accounts.models import Membership, Role
from backend.errors import DomainError, DomainErrors
from backend.regions import selectors, services
from backend.regions.models import Area, AreaLevel
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


def square(west, south, size=0.1):
    return {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [west + size, south], [west + size, south + size], [west, south + size], [west, south]]
        ],
    }


def test_area_at_returns_the_most_specific_area(demo):
    muba = demo["muba"]
    sekayu = Area.objects.get(region=muba, code="16.06.01")
    balai_agung = Area.objects.get(region=muba, code="16.06.01.1002")
    west, south, east, north = balai_agung.min_lon, balai_agung.min_lat, balai_agung.max_lon, balai_agung.max_lat
    # A point well inside the eastern half of Sekayu is in kelurahan Balai Agung.
    lon, lat = (west + east) / 2, (south + north) / 2
    found = selectors.area_at(muba, lat=lat, lon=lon)
    assert found == balai_agung and found.parent == sekayu


def test_every_point_of_the_grid_is_in_exactly_one_kecamatan(demo):
    muba = demo["muba"]
    kecamatan = list(Area.objects.filter(region=muba, level=AreaLevel.KECAMATAN))
    from shapely.geometry import Point, shape

    shapes = [shape(a.boundary) for a in kecamatan]
    for i in range(1, 20):
        for j in range(1, 20):
            point = Point(103.25 + 1.5 * i / 20, -3.15 + 1.5 * j / 20)
            assert sum(s.contains(point) for s in shapes) <= 1
            assert selectors.area_at(muba, lat=point.y, lon=point.x) is not None


def test_outside_the_region_is_none(demo):
    assert selectors.area_at(demo["muba"], lat=-5.0, lon=120.0) is None  # Sulawesi
    assert selectors.area_at(demo["muba"], lat=104.0, lon=-2.5) is None  # swapped: not even in Indonesia
    assert selectors.area_at(demo["muba"], lat=float("nan"), lon=104.0) is None


def test_area_in_another_region_is_not_found(demo):
    # A point in Parepare is no area of Musi Banyuasin.
    assert selectors.area_at(demo["parepare"], lat=-4.05, lon=119.65).region == demo["parepare"]
    assert selectors.area_at(demo["muba"], lat=-4.05, lon=119.65) is None


def test_index_follows_area_changes(demo, muba_admin):
    muba = demo["muba"]
    assert selectors.area_at(muba, lat=-1.0, lon=104.0) is None
    services.save_area(
        actor=muba_admin,
        area=Area(region=muba, code="16.06.10", name="Baru", level=AreaLevel.KECAMATAN, boundary=square(103.95, -1.05)),
    )
    assert selectors.area_at(muba, lat=-1.0, lon=104.0).name == "Baru"


@pytest.mark.parametrize(
    ("boundary", "fragment"),
    [
        ({"type": "Point", "coordinates": [104, -2]}, "Polygon or MultiPolygon"),
        ("not json", "GeoJSON geometry"),
        ({"type": "Polygon", "coordinates": "x"}, "malformed"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        (
            {"type": "Polygon", "coordinates": [[[104, -2], [104.1, -1.9], [104.1, -2], [104, -1.9], [104, -2]]]},
            "not a valid polygon",
        ),
        (square(-2.5, 104.0), "swapped"),
    ],
)
def test_bad_boundaries_are_field_errors(demo, muba_admin, boundary, fragment):
    with pytest.raises(DomainErrors) as refused:
        services.save_area(
            actor=muba_admin,
            area=Area(region=demo["muba"], code="16.06.10", name="X", level=AreaLevel.KECAMATAN, boundary=boundary),
        )
    [error] = [e for e in refused.value.errors if e.field == "boundary"]
    assert fragment in error.message
    assert not Area.objects.filter(code="16.06.10").exists()


def test_boundary_is_normalised_and_bbox_derived(demo, muba_admin):
    boundary = square(103.951234567891, -1.05)
    area = services.save_area(
        actor=muba_admin,
        area=Area(region=demo["muba"], code="16.06.10", name="X", level=AreaLevel.KECAMATAN, boundary=boundary),
    )
    assert area.min_lon == pytest.approx(103.9512346)
    assert area.max_lat == pytest.approx(-0.95)
    assert all(
        len(str(c).split(".")[-1]) <= 7 for ring in area.boundary["coordinates"] for point in ring for c in point
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "73.72.09"}, "code"),
        ({"code": "16.06"}, "code"),
        ({"level": AreaLevel.KELURAHAN}, "parent"),
    ],
)
def test_area_codes_and_hierarchy_are_checked(demo, muba_admin, changes, field):
    values = {
        "region": demo["muba"],
        "code": "16.06.10",
        "name": "X",
        "level": AreaLevel.KECAMATAN,
        "boundary": square(103.95, -1.05),
    }
    with pytest.raises(DomainErrors) as refused:
        services.save_area(actor=muba_admin, area=Area(**{**values, **changes}))
    assert field in {e.field for e in refused.value.errors}


def test_parent_must_be_in_the_same_region(demo):
    superuser = Actor.for_user(staff_user("admin"))
    parepare_kecamatan = Area.objects.filter(region=demo["parepare"]).first()
    with pytest.raises(DomainErrors) as refused:
        services.save_area(
            actor=superuser,
            area=Area(
                region=demo["muba"],
                code="16.06.01.3001",
                name="X",
                level=AreaLevel.DESA,
                parent=parepare_kecamatan,
                boundary=square(103.3, -1.8, 0.01),
            ),
        )
    assert "parent" in {e.field for e in refused.value.errors}


def test_only_the_regions_admin_may_change_its_areas(demo):
    parepare_admin = Actor.for_user(staff_user("admin.parepare"))
    staff = Actor.for_user(staff_user("pupr.staf"))
    area = Area.objects.get(region=demo["muba"], code="16.06.02")
    for actor in (parepare_admin, staff, Actor.anonymous()):
        area.name = "Renamed"
        with pytest.raises(DomainError) as refused:
            services.save_area(actor=actor, area=area)
        assert refused.value.code == "forbidden"
    assert Area.objects.get(pk=area.pk).name == "Lais"


def test_membership_must_stay_in_one_region(demo):
    user = staff_user("pupr.staf")
    from backend.accounts import services as account_services
    from backend.regions.models import Agency

    superuser = Actor.for_user(staff_user("admin"))
    other_agency = Agency.objects.get(region=demo["parepare"], code="dlh")
    with pytest.raises(DomainError):
        account_services.save_membership(
            actor=superuser,
            membership=Membership(user=user, region=demo["parepare"], agency=other_agency, role=Role.AGENCY_STAFF),
        )
