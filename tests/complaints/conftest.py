from __future__ import annotations

import pytest

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.models import Case
from backend.cases.services import transition
from backend.complaints.models import ComplaintCategory
from backend.regions.models import Area

SUBMIT = """
mutation($input: SubmitComplaintInput!) {
  submitComplaint(input: $input) {
    created
    case { id trackingCode status version agency { code } area { code } dueAt reporterName
           complaint { category { code } description anonymous confidential extra } }
    possibleDuplicates { distanceM case { trackingCode } }
    errors { code field message }
  }
}
"""


def centre(area: Area) -> tuple[float, float]:
    from shapely.geometry import shape

    point = shape(area.boundary).representative_point()
    return point.y, point.x


@pytest.fixture
def places(demo):
    muba = demo["muba"]

    def at(code):
        return centre(Area.objects.get(region=muba, code=code))

    return {
        "lais": at("16.06.02"),
        "balai_agung": at("16.06.01.1002"),
        "parepare": centre(Area.objects.filter(region=demo["parepare"]).first()),
    }


@pytest.fixture
def category(demo):
    def get(code, region="muba"):
        return ComplaintCategory.objects.get(region=demo[region], code=code)

    return get


@pytest.fixture
def resident(demo):
    return User.objects.get(phone="+6281200000001")


@pytest.fixture
def other_resident(db):
    return User.objects.create(phone="+6281299999999", full_name="Sari")


def complaint_input(category, lat, lon, /, **extra):
    values = {
        "region": "musi-banyuasin",
        "category": str(category.pk),
        "description": "Jalan berlubang besar di depan pasar, membahayakan pengendara motor.",
        "lat": lat,
        "lon": lon,
    }
    if category.code == "jalan-rusak":
        values["extra"] = {"severity": "berat"}
    values.update(extra)
    return values


@pytest.fixture
def submit(gql, resident):
    def run(category, lat, lon, /, *, as_user=None, **extra):
        gql.sign_in_as(as_user or resident)
        return gql(SUBMIT, {"input": complaint_input(category, lat, lon, **extra)})["submitComplaint"]

    return run


def staff_actor(username):
    return Actor.for_user(User.objects.get(username=username))


def resolve_case(case_pk, username="pupr.staf"):
    staff = staff_actor(username)
    case = Case.objects.get(pk=case_pk)
    for action in ("accept", "start", "resolve"):
        transition(case, action, actor=staff)
    return case
