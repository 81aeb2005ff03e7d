"""The outbox drain, in-process: live fan-out to channel-layer groups, pushes to a local server that speaks FCM v1
(through firebase-admin's real HTTP code), retries, token clean-up, preferences."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import TestCase
from django.utils import timezone

from backend import breaker
from backend.accounts.models import Device
from backend.cases import outbox
from backend.cases.models import Audience, OutboxMessage, OutboxStatus
from backend.cases.services import transition
from notifications import delivery
from notifications.models import NotificationPreference, PushDelivery, PushStatus
from notifications.push import retry_after_seconds
from tests.fcm_server import PROJECT
from tests.helpers import staff_actor


def device(user, token, language="id", platform="android"):
    return Device.objects.create(user=user, token=token, platform=platform, language=language)


def change(case, action="accept", username="pupr.staf"):
    """A staff move, committed the way a request commits it (so its on-commit delivery runs)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        transition(case, action, actor=staff_actor(username))


def test_filing_delivers_every_row_live(road_complaint, resident):
    rows = OutboxMessage.objects.filter(case=road_complaint)
    assert {(r.event_type, r.audience, r.status) for r in rows} == {
        # nobody is told that the resident filed it (they know), but they hear where it went
        ("routed", Audience.USER, OutboxStatus.SENT),
        ("routed", Audience.AGENCY, OutboxStatus.SENT),
        ("submitted", Audience.REGION, OutboxStatus.SENT),  # the integrations' (webhooks), made when there are any
        ("routed", Audience.REGION, OutboxStatus.SENT),
    }


def test_group_receives_ids_only(road_complaint):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"case.{road_complaint.pk}", channel)
    change(road_complaint)
    message = async_to_sync(layer.receive)(channel)
    row = OutboxMessage.objects.get(case=road_complaint, audience=Audience.CASE, event__type="accepted")
    assert message == {
        "type": "simpul.notify",
        "group": f"case.{road_complaint.pk}",
        "id": str(row.event_id),  # the notification id: the event's, the same in every group and on every phone
        "case": road_complaint.pk,
        "event": row.event_id,
        "event_type": "accepted",
        "visibility": "public",
        "at": row.event.created_at.isoformat(),
    }
    async_to_sync(layer.group_discard)(f"case.{road_complaint.pk}", channel)


def test_push_reaches_fcm_with_the_exact_v1_json(fcm, road_complaint, resident):
    phone = device(resident, "tok-resident-id", language="id")
    iphone = device(resident, "tok-resident-en", language="en", platform="ios")
    change(road_complaint)
    # The service account's signed JWT was exchanged for an access token (by each of send_each's threads that
    # found none yet).
    assert 1 <= len(fcm.token_requests) <= 2
    for grant in fcm.token_requests:
        assert grant["form"]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        assert grant["claims"]["iss"] == f"push@{PROJECT}.iam.gserviceaccount.com"
        assert "https://www.googleapis.com/auth/cloud-platform" in grant["claims"]["scope"].split()
    sends = {r.body["message"]["token"]: r for r in fcm.sends}
    assert set(sends) == {"tok-resident-id", "tok-resident-en"}
    row = OutboxMessage.objects.get(
        case=road_complaint, audience=Audience.USER, audience_id=resident.pk, event__type="accepted"
    )
    collapse = f"case-{road_complaint.pk}"
    assert sends["tok-resident-id"].body == {
        "message": {
            "token": "tok-resident-id",
            "notification": {
                "title": f"Kasus {road_complaint.tracking_code}",
                "body": "Instansi menerima laporan Anda.",
            },
            "data": {
                "notificationId": str(row.event_id),
                "caseId": sends["tok-resident-id"].body["message"]["data"]["caseId"],
                "trackingCode": road_complaint.tracking_code,
                "eventType": "accepted",
                "status": "accepted",
            },
            "android": {
                "collapse_key": collapse,
                "priority": "normal",
                "ttl": "259200s",
                "notification": {"tag": collapse, "channel_id": "cases"},
            },
            "apns": {
                "headers": {"apns-collapse-id": collapse, "apns-priority": "5", "apns-push-type": "alert"},
                "payload": {"aps": {"thread-id": collapse}},
            },
        }
    }
    assert sends["tok-resident-en"].body["message"]["notification"] == {
        "title": f"Case {road_complaint.tracking_code}",
        "body": "The agency accepted your report.",
    }
    assert sends["tok-resident-id"].headers["authorization"] == "Bearer fcm-test-access-token"
    pushes = PushDelivery.objects.filter(message=row)
    assert {(p.device_id, p.status) for p in pushes} == {(phone.pk, PushStatus.SENT), (iphone.pk, PushStatus.SENT)}
    assert all(p.provider_id.startswith(f"projects/{PROJECT}/messages/") for p in pushes)


def test_urgent_push_is_high_priority(fcm, road_complaint, resident):
    device(resident, "tok-1")
    change(road_complaint)
    change(road_complaint, "start")
    fcm.reset()
    with TestCase.captureOnCommitCallbacks(execute=True):
        transition(
            road_complaint, "request_info", actor=staff_actor("pupr.staf"), payload={"question": "Foto lebih dekat?"}
        )
    (send,) = fcm.sends
    assert send.body["message"]["android"]["priority"] == "high"
    assert send.body["message"]["apns"]["headers"]["apns-priority"] == "10"
    assert send.body["message"]["apns"]["payload"]["aps"]["sound"] == "default"


@pytest.mark.parametrize("token", ["unregistered-1", "mismatch-1", "invalid-1"])
def test_dead_tokens_deactivate_their_device(fcm, road_complaint, resident, token):
    dead = device(resident, token)
    alive = device(resident, "tok-alive")
    change(road_complaint)
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.active, alive.active) == (False, True)
    assert PushDelivery.objects.get(device=dead).status == PushStatus.DROPPED
    assert PushDelivery.objects.get(device=alive).status == PushStatus.SENT
    # The dead token is not tried again.
    fcm.reset()
    change(road_complaint, "start")
    assert fcm.tokens_sent() == ["tok-alive"]


def test_quota_exceeded_waits_for_retry_after(fcm, road_complaint, resident):
    device(resident, "quota-1")
    before = timezone.now()
    change(road_complaint)
    push = PushDelivery.objects.get()
    assert push.status == PushStatus.PENDING and push.attempts == 1
    assert "QUOTA_EXCEEDED" in push.last_error or "RESOURCE_EXHAUSTED" in push.last_error
    assert push.next_attempt_at >= before + dt.timedelta(seconds=120)
    assert delivery.send_pushes() == 0  # not due yet: nothing is sent early
    assert len(fcm.sends) == 1


def test_unavailable_is_retried_with_backoff_then_sent(fcm, road_complaint, resident, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    device(resident, "tok-flaky")
    fcm.fail_first["tok-flaky"] = 2
    change(road_complaint)
    push = PushDelivery.objects.get()
    assert push.status == PushStatus.PENDING and "UNAVAILABLE" in push.last_error
    first_wait = push.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=7) < first_wait < dt.timedelta(seconds=13)  # base 10 s, 20 % jitter
    PushDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    push.refresh_from_db()
    second_wait = push.next_attempt_at - timezone.now()
    assert push.attempts == 2 and dt.timedelta(seconds=15) < second_wait < dt.timedelta(seconds=25)
    PushDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    push.refresh_from_db()
    assert (push.status, push.attempts, push.last_error) == (PushStatus.SENT, 3, "")
    assert fcm.tokens_sent() == ["tok-flaky"] * 3


def test_gives_up_after_max_attempts(fcm, road_complaint, resident, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    device(resident, "unavailable-1")
    change(road_complaint)
    PushDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    push = PushDelivery.objects.get()
    assert (push.status, push.attempts) == (PushStatus.FAILED, 2)
    assert "UNAVAILABLE" in push.last_error


def test_a_device_reached_is_not_sent_again_when_another_is_retried(fcm, road_complaint, resident):
    device(resident, "tok-ok")
    device(resident, "tok-flaky")
    fcm.fail_first["tok-flaky"] = 1
    change(road_complaint)
    PushDelivery.objects.update(next_attempt_at=timezone.now())
    delivery.sweep()
    delivery.sweep()
    assert sorted(fcm.tokens_sent()) == ["tok-flaky", "tok-flaky", "tok-ok"]


def test_draining_twice_delivers_once(fcm, road_complaint, resident):
    device(resident, "tok-1")
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))  # committed without its on-commit hand-off
    assert OutboxMessage.objects.filter(case=road_complaint, status=OutboxStatus.PENDING).count() == 4
    assert delivery.sweep() == (4, 1)
    assert delivery.sweep() == (0, 0)
    assert fcm.tokens_sent() == ["tok-1"]


def test_a_claimed_row_is_left_alone_until_its_lease_ends(road_complaint, settings):
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
    claimed = delivery._claim(pending, 100, timezone.now())  # a worker took them, then died
    assert len(claimed) == 4
    assert delivery.deliver().claimed == 0
    OutboxMessage.objects.update(next_attempt_at=timezone.now())  # the lease ran out
    assert delivery.deliver().messages == 4


def test_channel_layer_down_keeps_the_row_and_still_pushes(fcm, road_complaint, resident, settings, monkeypatch):
    monkeypatch.setattr(breaker.CHANNEL_LAYER, "cooldown", 0.2)
    device(resident, "tok-1")
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        change(road_complaint)
    finally:
        settings.CHANNEL_LAYERS = layers
        channel_layers.backends.pop("default", None)
    rows = OutboxMessage.objects.filter(case=road_complaint, event__type="accepted").exclude(audience=Audience.REGION)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert all("live: " in r.last_error for r in rows)
    assert fcm.tokens_sent() == ["tok-1"]  # the phone heard of it anyway
    time.sleep(0.25)  # Redis is back, and the breaker's cooldown (0.2 s here) has passed
    rows.update(next_attempt_at=timezone.now())
    assert delivery.sweep() == (3, 0)  # live again; the push is not repeated
    assert {r.status for r in rows} == {OutboxStatus.SENT}


def test_muted_kind_is_not_pushed(fcm, road_complaint, resident):
    device(resident, "tok-1")
    NotificationPreference.objects.create(user=resident, muted_events=["status"])
    change(road_complaint)
    assert fcm.sends == []
    assert not PushDelivery.objects.exists()


def test_quiet_hours_hold_non_urgent_pushes_until_they_end(fcm, road_complaint, resident):
    device(resident, "tok-1")
    tz = road_complaint.region.tz
    now = timezone.now().astimezone(tz)
    start = (now - dt.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + dt.timedelta(hours=2)).time().replace(second=0, microsecond=0)
    NotificationPreference.objects.create(user=resident, quiet_start=start, quiet_end=end)
    change(road_complaint)
    push = PushDelivery.objects.get()
    assert push.status == PushStatus.PENDING and fcm.sends == []
    assert push.next_attempt_at.astimezone(tz).time().replace(tzinfo=None) == end
    # An urgent event (the agency needs an answer) is pushed at once.
    change(road_complaint, "start")
    with TestCase.captureOnCommitCallbacks(execute=True):
        transition(
            road_complaint, "request_info", actor=staff_actor("pupr.staf"), payload={"question": "Di mana tepatnya?"}
        )
    assert [r.body["message"]["data"]["eventType"] for r in fcm.sends] == ["info_requested"]


def test_quiet_hours_across_midnight(resident):
    tz = dt.timezone(dt.timedelta(hours=7))
    preference = NotificationPreference(user=resident, quiet_start=dt.time(22), quiet_end=dt.time(6))
    at = dt.datetime(2026, 11, 23, 23, 30, tzinfo=tz)
    assert delivery.quiet_hours_end(preference, tz, at) == dt.datetime(2026, 11, 24, 6, 0, tzinfo=tz)
    assert delivery.quiet_hours_end(preference, tz, at.replace(hour=3)) == dt.datetime(2026, 11, 23, 6, tzinfo=tz)
    assert delivery.quiet_hours_end(preference, tz, at.replace(hour=12)) is None


def test_retry_after_header_forms():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    later = timezone.now() + dt.timedelta(seconds=90)
    assert 80 < retry_after_seconds(later.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 91


def test_a_transfer_tells_the_queue_the_case_left_and_the_one_it_joined(road_complaint, demo):
    from backend.cases import services
    from backend.regions.models import Agency

    pupr, dishub = road_complaint.agency, Agency.objects.get(region=demo["muba"], code="dishub")
    services.transfer(
        actor=staff_actor("pupr.staf"), case_id=road_complaint.pk, agency_id=dishub.pk, reason="Rambu, bukan jalan"
    )
    services.accept_transfer(actor=staff_actor("dishub.staf"), case_id=road_complaint.pk)
    for event_type in ("transfer_offered", "transfer_accepted"):
        queues = OutboxMessage.objects.filter(case=road_complaint, event__type=event_type, audience=Audience.AGENCY)
        assert {r.audience_id for r in queues} == {pupr.pk, dishub.pk}, event_type


def test_internal_note_is_not_pushed_to_the_resident(fcm, road_complaint, resident):
    device(resident, "tok-1")
    with TestCase.captureOnCommitCallbacks(execute=True):
        transition(road_complaint, "note", actor=staff_actor("pupr.staf"), payload={"text": "cek lokasi"})
    assert fcm.sends == []
    assert not OutboxMessage.objects.filter(
        case=road_complaint, event__type="note_added", audience=Audience.USER
    ).exists()


def test_fcm_payload_data_values_are_strings(fcm, road_complaint, resident):
    device(resident, "tok-1")
    change(road_complaint)
    data = fcm.sends[0].body["message"]["data"]
    assert all(isinstance(value, str) for value in data.values())
    assert json.loads(json.dumps(data)) == data


def test_co_reporters_phones_hear_of_public_events(fcm, road_complaint, other_resident):
    from backend.cases.models import CaseParticipant

    CaseParticipant.objects.create(case=road_complaint, user=other_resident)
    device(other_resident, "tok-co")
    change(road_complaint)
    assert fcm.tokens_sent() == ["tok-co"]


def test_a_permit_is_named_as_an_application():
    from notifications.events import render

    assert render("rejected", "en", code="IZN-2026-000001", status="rejected", case_kind="permit") == (
        "Application IZN-2026-000001",
        "Your application was rejected: rejected.",
    )
    assert render("rejected", "id", code="ADU-2026-000001", status="rejected")[1].startswith("Laporan Anda ditolak")


def test_notify_payloads_stay_within_postgres_limit():
    ids = [f"{n:08d}-0000-0000-0000-000000000000" for n in range(700)]
    payloads = outbox.notify_payloads(ids)
    assert len(payloads) > 1 and all(len(p) <= outbox.PAYLOAD_MAX for p in payloads)
    assert [pk for p in payloads for pk in p.split(",")] == ids
    assert outbox.notify_payloads([]) == []
