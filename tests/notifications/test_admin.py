"""Operators see the outbox and pushes of their own region only, and cannot change them."""

from __future__ import annotations

from django.test import Client

from backend.accounts.models import Device, User
from notifications import delivery
from notifications.models import OutboxMessage, PushDelivery
from schema.fields import node_pk
from tests.helpers import resolve_case


def test_outbox_and_pushes_are_read_only_and_scoped(submit, category, places, resident, demo):
    Device.objects.create(user=resident, token="tok-admin", platform="android")
    case_id = submit(category("jalan-rusak"), *places["lais"])["case"]["id"]
    resolve_case(node_pk(case_id, "Case"))
    delivery.sweep()
    assert PushDelivery.objects.exists()
    muba, parepare = Client(), Client()
    muba.force_login(User.objects.get(username="admin.muba"))
    parepare.force_login(User.objects.get(username="admin.parepare"))
    for path in ("/admin/notifications/outboxmessage/", "/admin/notifications/pushdelivery/"):
        assert muba.get(path).status_code == 200
        assert parepare.get(path).status_code == 200
    row = OutboxMessage.objects.first()
    page = f"/admin/notifications/outboxmessage/{row.pk}/change/"
    assert muba.get(page).status_code == 200
    assert parepare.get(page).status_code in (302, 403, 404)
    assert row.case.tracking_code in muba.get("/admin/notifications/outboxmessage/").content.decode()
    assert row.case.tracking_code not in parepare.get("/admin/notifications/outboxmessage/").content.decode()
    assert muba.post(f"/admin/notifications/outboxmessage/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.filter(pk=row.pk).exists()
