"""Push devices and profile: register, move between accounts, unregister, refusals."""

from __future__ import annotations

import pytest

from backend.accounts.models import Device

pytestmark = pytest.mark.django_db

REGISTER = (
    "mutation($t: String!, $p: Platform!, $l: Language, $v: String) {"
    " registerDevice(token: $t, platform: $p, language: $l, appVersion: $v) {"
    " device { platform language appVersion active } errors { code field } } }"
)
UNREGISTER = "mutation($t: String!) { unregisterDevice(token: $t) { ok errors { code field } } }"
TOKEN = "fcm-token-AAAA:APA91bH_example"


def test_register_and_list_devices(gql, demo):
    gql.sign_in("pupr.staf")
    result = gql(REGISTER, {"t": TOKEN, "p": "ANDROID", "l": "EN", "v": "1.4.0"})["registerDevice"]
    assert result == {
        "device": {"platform": "ANDROID", "language": "EN", "appVersion": "1.4.0", "active": True},
        "errors": [],
    }
    assert gql("{ me { devices { platform } } }")["me"]["devices"] == [{"platform": "ANDROID"}]


def test_registering_again_updates_instead_of_duplicating(gql, demo):
    gql.sign_in("pupr.staf")
    gql(REGISTER, {"t": TOKEN, "p": "ANDROID"})
    gql(REGISTER, {"t": TOKEN, "p": "ANDROID", "v": "1.5.0"})
    assert Device.objects.get().app_version == "1.5.0"


def test_a_token_moves_to_the_account_that_registers_it_last(gql, demo):
    gql.sign_in("pupr.staf")
    gql(REGISTER, {"t": TOKEN, "p": "IOS"})
    gql.sign_in("dishub.staf")
    gql(REGISTER, {"t": TOKEN, "p": "IOS"})
    assert Device.objects.get().user.username == "dishub.staf"


def test_language_defaults_to_the_users(gql, demo):
    gql.sign_in("pupr.staf")
    gql("mutation { updateProfile(language: EN) { errors { code } } }")
    assert gql(REGISTER, {"t": TOKEN, "p": "WEB"})["registerDevice"]["device"]["language"] == "EN"


def test_unregister(gql, demo):
    gql.sign_in("pupr.staf")
    gql(REGISTER, {"t": TOKEN, "p": "ANDROID"})
    assert gql(UNREGISTER, {"t": TOKEN})["unregisterDevice"] == {"ok": True, "errors": []}
    assert not Device.objects.exists()
    assert gql(UNREGISTER, {"t": TOKEN})["unregisterDevice"]["errors"] == [{"code": "NOT_FOUND", "field": "token"}]


def test_cannot_unregister_someone_elses_device(gql, demo):
    gql.sign_in("pupr.staf")
    gql(REGISTER, {"t": TOKEN, "p": "ANDROID"})
    gql.sign_in("dishub.staf")
    assert gql(UNREGISTER, {"t": TOKEN})["unregisterDevice"]["errors"][0]["code"] == "NOT_FOUND"
    assert Device.objects.exists()


@pytest.mark.parametrize("token", ["", "   ", "has space", "x" * 513])
def test_bad_tokens(gql, demo, token):
    gql.sign_in("pupr.staf")
    result = gql(REGISTER, {"t": token, "p": "ANDROID"})["registerDevice"]
    assert result["errors"] == [{"code": "INVALID_TOKEN", "field": "token"}]
    assert not Device.objects.exists()


def test_anonymous_cannot_register(gql, demo):
    assert gql(REGISTER, {"t": TOKEN, "p": "ANDROID"})["registerDevice"]["errors"][0]["code"] == "NOT_AUTHENTICATED"


def test_unknown_platform_is_a_validation_error(gql, demo):
    gql.sign_in("pupr.staf")
    response = gql.post(REGISTER, {"t": TOKEN, "p": "SYMBIAN"})
    assert response.status_code == 400
    assert "SYMBIAN" in response.json()["errors"][0]["message"]


def test_update_profile(gql, demo):
    gql.sign_in("pupr.staf")
    query = "mutation($n: String) { updateProfile(fullName: $n) { user { fullName } errors { code field } } }"
    assert gql(query, {"n": "  Dewi   Lestari, S.T. "})["updateProfile"] == {
        "user": {"fullName": "Dewi Lestari, S.T."},
        "errors": [],
    }
    too_long = gql(query, {"n": "x" * 151})["updateProfile"]
    assert too_long["errors"] == [{"code": "INVALID_INPUT", "field": "fullName"}]


def test_me_shows_roles(gql, demo):
    gql.sign_in("pupr.kabid")
    me = gql("{ me { username isSuperuser memberships { role region { code } agency { shortName } } } }")["me"]
    assert me == {
        "username": "pupr.kabid",
        "isSuperuser": False,
        "memberships": [{"role": "AGENCY_SUPERVISOR", "region": {"code": "16.06"}, "agency": {"shortName": "DPUPR"}}],
    }


def test_anonymous_me_is_null(gql, demo):
    assert gql("{ me { id } }") == {"me": None}


def test_a_user_node_is_readable_only_by_its_owner(gql, demo):
    gql.sign_in("pupr.staf")
    my_id = gql("{ me { id } }")["me"]["id"]
    assert gql("query($id: ID!) { node(id: $id) { id } }", {"id": my_id}) == {"node": {"id": my_id}}
    gql.sign_in("dishub.staf")
    assert gql("query($id: ID!) { node(id: $id) { id } }", {"id": my_id}) == {"node": None}
