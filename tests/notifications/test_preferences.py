"""Push settings through /graphql: read, replace, refuse bad input; and subscriptions are refused over HTTP."""

from __future__ import annotations

import pytest

from notifications.models import NotificationPreference

READ = "{ me { notificationPreferences { mutedKinds quietHoursStart quietHoursEnd } } }"
SET = """
mutation($muted: [NotificationKind!]!, $start: Time, $end: Time) {
  setNotificationPreferences(mutedKinds: $muted, quietHoursStart: $start, quietHoursEnd: $end) {
    preferences { mutedKinds quietHoursStart quietHoursEnd }
    errors { code field message }
  }
}
"""


def test_defaults_then_replace(gql, resident):
    gql.sign_in_as(resident)
    assert gql(READ)["me"]["notificationPreferences"] == {
        "mutedKinds": [],
        "quietHoursStart": None,
        "quietHoursEnd": None,
    }
    result = gql(SET, {"muted": ["REPLY", "STATUS", "REPLY"], "start": "22:00:00", "end": "06:30:00"})
    assert result["setNotificationPreferences"] == {
        "preferences": {"mutedKinds": ["REPLY", "STATUS"], "quietHoursStart": "22:00:00", "quietHoursEnd": "06:30:00"},
        "errors": [],
    }
    # Replacing: what is not given is cleared.
    gql(SET, {"muted": []})
    row = NotificationPreference.objects.get(user=resident)
    assert (row.muted_events, row.quiet_start, row.quiet_end) == ([], None, None)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"muted": [], "start": "22:00:00"}, "quietHoursEnd"),
        ({"muted": [], "end": "06:00:00"}, "quietHoursStart"),
        ({"muted": [], "start": "06:00:00", "end": "06:00:00"}, "quietHoursEnd"),
    ],
)
def test_bad_quiet_hours_are_refused_and_change_nothing(gql, resident, variables, field):
    gql.sign_in_as(resident)
    errors = gql(SET, variables)["setNotificationPreferences"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID", field)]
    assert not NotificationPreference.objects.exists()


def test_unknown_kind_is_a_validation_error(gql, resident):
    gql.sign_in_as(resident)
    response = gql.post(SET, {"muted": ["NOPE"]})
    assert response.status_code == 400
    assert "NOPE" in response.json()["errors"][0]["message"]


def test_signed_out_is_refused(gql, db):
    errors = gql(SET, {"muted": []})["setNotificationPreferences"]["errors"]
    assert errors[0]["code"] == "NOT_AUTHENTICATED"


def test_subscriptions_are_refused_over_http(gql, db):
    response = gql.post("subscription { myCases { eventType } }")
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in body["errors"][0]["message"]


def test_service_refuses_unknown_kinds(resident):
    from backend.errors import DomainError
    from notifications.services import set_preferences

    with pytest.raises(DomainError) as refused:
        set_preferences(user=resident, muted_kinds=["status", "gossip"], quiet_start=None, quiet_end=None)
    assert (refused.value.field, refused.value.message) == ("mutedKinds", "Unknown kind of notification: gossip.")
