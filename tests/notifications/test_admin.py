"""Operators see the outbox and pushes of their own region only, and cannot change them."""

from __future__ import annotations

from django.test import Client

from backend.accounts.models import Device
from backend.cases.models import OutboxMessage
from notifications import delivery
from notifications.models import PushDelivery
from schema.fields import node_pk
from tests.helpers import admin_site, resolve_case, staff_user


def test_outbox_and_pushes_are_read_only_and_scoped(submit, category, places, resident, demo):
    Device.objects.create(user=resident, token="tok-admin", platform="android")
    case_id = submit(category("jalan-rusak"), *places["lais"])["case"]["id"]
    resolve_case(node_pk(case_id, "Case"))
    delivery.sweep()
    assert PushDelivery.objects.exists()
    muba, parepare = admin_site("admin.muba"), admin_site("admin.parepare")
    for path in ("/admin/cases/outboxmessage/", "/admin/notifications/pushdelivery/"):
        assert muba.get(path).status_code == 200
        assert parepare.get(path).status_code == 200
    row = OutboxMessage.objects.first()
    page = f"/admin/cases/outboxmessage/{row.pk}/change/"
    assert muba.get(page).status_code == 200
    assert parepare.get(page).status_code in (302, 403, 404)
    assert row.case.tracking_code in muba.get("/admin/cases/outboxmessage/").content.decode()
    assert row.case.tracking_code not in parepare.get("/admin/cases/outboxmessage/").content.decode()
    assert muba.post(f"/admin/cases/outboxmessage/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutboxMessage.objects.filter(pk=row.pk).exists()


def test_the_admin_names_an_anonymous_reporter_only_to_the_handling_agency(submit, category, places, resident, demo):
    """The same rule as the API (complaints.selectors.shows_reporter), on every admin page that names people on a
    case: the case (its reporter and its timeline), the outbox and the pushes."""
    resident.full_name = "Budi Santoso"
    resident.save()
    Device.objects.create(user=resident, token="tok-anon", platform="android")
    anonymous = submit(category("jalan-rusak"), *places["lais"], anonymous=True, idempotencyKey="a")["case"]
    named = submit(category("jalan-rusak"), *places["lais"], idempotencyKey="n")["case"]
    for case in (anonymous, named):
        resolve_case(node_pk(case["id"], "Case"))
    delivery.sweep()
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    admin.force_login(staff_user("admin.muba"))  # the region's admin, not of the handling agency

    def pages(case):
        pk = node_pk(case["id"], "Case")
        paths = [f"/admin/cases/case/{pk}/change/"]
        paths += [
            f"/admin/cases/outboxmessage/{row.pk}/change/"
            for row in OutboxMessage.objects.filter(case_id=pk, audience="user")
        ]
        paths += [
            f"/admin/notifications/pushdelivery/{push.pk}/change/"
            for push in PushDelivery.objects.filter(message__case_id=pk)
        ]
        for path in paths:
            response = admin.get(path)
            assert response.status_code == 200, path
            yield path, response.content.decode()

    for path, page in pages(anonymous):
        assert "Budi Santoso" not in page and resident.phone not in page, path
        assert "Anonymous reporter" in page, path
    lists = "".join(
        admin.get(p).content.decode() for p in ("/admin/cases/outboxmessage/", "/admin/notifications/pushdelivery/")
    )
    assert lists.count("Budi Santoso") == (
        OutboxMessage.objects.filter(case_id=node_pk(named["id"], "Case"), audience="user").count()
        + PushDelivery.objects.filter(message__case_id=node_pk(named["id"], "Case")).count()
    )  # the named report's rows only
    assert all("Budi Santoso" in page for _path, page in pages(named))
