"""Tenant isolation: region B's staff cannot read region A's internals, at the selector and through the API."""

from __future__ import annotations

import pytest

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.errors import DomainError
from backend.regions import selectors
from backend.regions.models import Agency
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db

MEMBERS = "query($id: ID!) { node(id: $id) { ... on Agency { shortName members { fullName role } } } }"


def actor(username):
    return Actor.for_user(staff_user(username))


@pytest.fixture
def muba_dpupr(demo):
    return Agency.objects.get(region=demo["muba"], code="dpupr")


@pytest.mark.parametrize("username", ["pupr.staf", "pupr.kabid", "dishub.staf", "admin.muba", "admin"])
def test_staff_of_the_region_see_who_works_at_an_agency(muba_dpupr, username):
    members = selectors.agency_members(actor=actor(username), agency=muba_dpupr)
    assert sorted(m.user.username for m in members) == ["pupr.kabid", "pupr.staf"]


@pytest.mark.parametrize("username", ["admin.parepare", "pupr.parepare"])
def test_staff_of_another_region_are_refused(muba_dpupr, username):
    with pytest.raises(DomainError) as refused:
        selectors.agency_members(actor=actor(username), agency=muba_dpupr)
    assert refused.value.code == "forbidden"


def test_residents_and_anonymous_are_refused(muba_dpupr):
    resident = Actor.for_user(User.objects.get(phone="+6281200000001"))
    for who in (resident, Actor.anonymous()):
        with pytest.raises(DomainError):
            selectors.agency_members(actor=who, agency=muba_dpupr)


def test_through_the_api(gql, muba_dpupr):
    from graphql_relay import to_global_id

    agency_id = to_global_id("Agency", muba_dpupr.pk)
    gql.sign_in("pupr.parepare")
    response = gql.post(MEMBERS, {"id": agency_id}).json()
    assert response["data"]["node"] == {"shortName": "DPUPR", "members": None}
    assert response["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert response["errors"][0]["path"] == ["node", "members"]

    gql.sign_in("dishub.staf")
    members = gql(MEMBERS, {"id": agency_id})["node"]["members"]
    assert {m["fullName"] for m in members} == {"Ir. Hendra Wijaya", "Dewi Lestari"}


def test_public_facts_are_public(gql, demo):
    data = gql('{ region(slugOrCode: "16.06") { name triageAgency { shortName } agencies { shortName email } } }')
    assert data["region"]["triageAgency"] == {"shortName": "DISKOMINFO"}
    assert len(data["region"]["agencies"]) == 10


def test_inactive_agencies_and_regions_are_hidden(gql, demo, muba_dpupr):
    from graphql_relay import to_global_id

    Agency.objects.filter(pk=muba_dpupr.pk).update(active=False)
    assert gql("query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Agency", muba_dpupr.pk)}) == {
        "node": None
    }
    demo["parepare"].__class__.objects.filter(code="73.72").update(active=False)
    codes = [e["node"]["code"] for e in gql("{ regions { edges { node { code } } } }")["regions"]["edges"]]
    assert codes == ["16.06"]
    assert gql('{ region(slugOrCode: "parepare") { code } }') == {"region": None}
