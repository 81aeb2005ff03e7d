"""Permits refused: per role, per state, per tenant; bad documents and NIKs; a type edited after submission; and no
response ever carrying an unmasked NIK to anyone not entitled."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from backend.accounts.actor import Actor
from backend.cases.models import Audience, Case, CaseEvent, OutboxMessage
from backend.permits.catalogue import TypeEdition, current_version, save_permit_type
from backend.permits.deemed import flag_deemed_approvals
from backend.permits.models import PermitApplication, PermitType
from tests.helpers import staff_user
from tests.permits.conftest import FORM, NIK, jpeg_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


def codes(result) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in result["errors"]]


def test_nik_and_business_checks(permits, resident):
    permits.as_user(resident)
    draft = permits.draft("BUSINESS")
    bad = permits.update(draft["id"], nik="1606013102900001", nib="12345")
    assert codes(bad) == [("NIK_INVALID", "nik"), ("INVALID", "nib")]
    assert PermitApplication.objects.get().nik_encrypted == ""  # nothing saved
    warned = permits.update(draft["id"], nik="1660011208850003")
    assert warned["errors"] == [] and "16.60" in warned["warnings"][0]
    permits.attach_all(draft["id"])
    assert permits.update(draft["id"], form=FORM)["errors"] == []
    refused = permits.submit(draft["id"])
    assert {("INVALID", "businessName"), ("INVALID", "nib")} <= set(codes(refused))
    assert permits.update(draft["id"], businessName="CV Maju Jaya", nib="1234567890123")["errors"] == []
    assert permits.submit(draft["id"])["errors"] == []


def test_bad_documents_are_refused_and_nothing_is_kept(permits, resident):
    permits.as_user(resident)
    draft = permits.draft()
    html = b"<!doctype html><html><body>not a pdf</body></html>"
    assert codes(permits.attach(draft["id"], "bukti_tanah", "shm.pdf", html, "application/pdf")) == [
        ("UNSUPPORTED_TYPE", "file")
    ]
    truncated = pdf_bytes()[:-200]
    assert codes(permits.attach(draft["id"], "bukti_tanah", "shm.pdf", truncated, "application/pdf")) == [
        ("CORRUPT", "file")
    ]
    assert codes(permits.attach(draft["id"], "gambar_teknis", "a.jpg", jpeg_bytes(), "image/jpeg")) == [
        ("UNSUPPORTED_TYPE", "file")  # drawings are PDF only
    ]
    assert codes(permits.attach(draft["id"], "ktp", "empty.jpg", b"", "image/jpeg")) == [("EMPTY", "file")]
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF"
    assert codes(permits.attach(draft["id"], "bukti_tanah", "big.pdf", big, "application/pdf")) == [
        ("TOO_LARGE", "file")
    ]
    assert codes(permits.attach(draft["id"], "sertifikat", "x.pdf", pdf_bytes(), "application/pdf")) == [
        ("INVALID", "requirement")
    ]
    assert not PermitApplication.objects.get().documents.exists()


def test_who_may_do_what(permits, resident, other_resident, agency_id):
    application = permits.filed(resident)
    case_id = application["case"]["id"]
    # Another resident sees nothing of it.
    permits.as_user(other_resident)
    assert permits.gql("query($id: ID!) { node(id: $id) { id } }", {"id": application["id"]})["node"] is None
    assert codes(permits.update(application["id"], applicantName="x")) == [("NOT_FOUND", "applicationId")]
    assert codes(permits.act("withdrawPermitApplication", case_id)) == [("NOT_FOUND", "caseId")]
    # The applicant cannot act as the office.
    permits.as_user(resident)
    assert codes(permits.act("startPermitVerification", case_id)) == [("NOT_FOUND", "caseId")]
    assert codes(permits.update(application["id"], applicantName="x"))[0][0] == "INVALID_STATE"
    assert codes(permits.act("resubmitPermitApplication", case_id))[0][0] == "INVALID_STATE"
    # Staff of another region: nothing exists.
    permits.as_user("pupr.parepare")
    assert codes(permits.act("startPermitVerification", case_id)) == [("NOT_FOUND", "caseId")]
    # Staff of the region but not of the handling agency: forbidden.
    permits.as_user("dishub.staf")
    assert codes(permits.act("startPermitVerification", case_id)) == [("FORBIDDEN", None)]
    # The office works it; the head approves only once the review is done; issuing needs approval first.
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    assert codes(permits.act("issuePermit", case_id))[0][0] == "INVALID_STATE"
    assert codes(permits.act("sendPermitToReview", case_id, agencyIds=[agency_id("dpupr", "parepare")])) == [
        ("INVALID", "agencyIds")
    ]
    permits.act("sendPermitToReview", case_id, agencyIds=[agency_id("dpupr")])
    permits.as_user("dishub.staf")  # not asked to review
    refused = permits.act("recordPermitRecommendation", case_id, recommendation="APPROVE", note="ok")
    assert codes(refused) == [("FORBIDDEN", None)]
    permits.as_user("ptsp.kadis")
    assert codes(permits.act("approvePermit", case_id))[0][0] == "INVALID_STATE"  # DPUPR has not answered
    permits.as_user("pupr.staf")
    assert permits.act("recordPermitRecommendation", case_id, recommendation="APPROVE", note="ok")["errors"] == []
    assert codes(permits.act("approvePermit", case_id)) == [("FORBIDDEN", None)]
    permits.as_user("ptsp.kadis")
    assert codes(permits.act("approvePermit", case_id))[0][0] == "INVALID_STATE"  # the fee is not paid
    # The applicant may withdraw while it is open; afterwards nothing moves.
    permits.as_user(resident)
    assert permits.act("withdrawPermitApplication", case_id, reason="Batal membangun")["case"]["status"] == "withdrawn"
    permits.as_user("ptsp.staf")
    assert codes(permits.act("assessPermitFee", case_id))[0][0] == "INVALID_STATE"


def test_stale_version_is_a_conflict(permits, resident):
    case_id = permits.filed(resident)["case"]["id"]
    permits.as_user("ptsp.staf")
    version = Case.objects.get().version
    assert permits.act("startPermitVerification", case_id, version=version)["errors"] == []
    assert codes(permits.act("assessPermitFee", case_id, version=version))[0][0] == "CONFLICT"


def test_a_type_edited_after_submission_does_not_change_the_application(permits, resident, demo):
    application = permits.filed(resident)
    permit_type = PermitType.objects.get(code="pbg")
    old = current_version(permit_type)
    form = json.loads(json.dumps(old.form_schema))
    form["required"].append("tinggi_bangunan")
    form["properties"]["tinggi_bangunan"] = {"type": "number"}
    edition = TypeEdition(
        name_id=old.name_id,
        name_en=old.name_en,
        handling_agency_id=old.handling_agency_id,
        sla_working_days=20,
        applicant_kinds=old.applicant_kinds,
        form_schema=form,
        documents=old.documents,
        fee={"kind": "fixed", "amount": 1},
    )
    admin = Actor.for_user(staff_user("admin.muba"))
    new = save_permit_type(actor=admin, region_id=demo["muba"].pk, code="pbg", edition=edition)
    assert new.number == 2
    # The filed application keeps version 1: its form (no height asked), its fee rule and its deadline.
    row = PermitApplication.objects.get()
    assert row.type_version_id == old.pk
    permits.as_user("ptsp.staf")
    case_id = application["case"]["id"]
    permits.act("startPermitVerification", case_id)
    permits.act("requestPermitRevision", case_id, items=[{"field": "luas_bangunan", "note": "Luas tidak sesuai"}])
    permits.as_user(resident)
    assert permits.update(application["id"], form={**FORM, "luas_bangunan": 100})["errors"] == []
    assert permits.act("resubmitPermitApplication", case_id)["errors"] == []  # v1's form: no height needed
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    permits.act("sendPermitToReview", case_id)
    for user in ("pupr.staf", "dlh.staf"):
        permits.as_user(user)
        permits.act("recordPermitRecommendation", case_id, recommendation="APPROVE", note="ok")
    permits.as_user("ptsp.staf")
    assert permits.act("assessPermitFee", case_id)["case"]["permit"]["feeAmount"] == 1_562_500  # v1's formula
    # A new draft gets version 2.
    permits.as_user(resident)
    assert permits.draft()["permitType"]["version"] == 2


def test_no_response_leaks_the_nik(permits, resident, other_resident):
    application = permits.filed(resident)
    case_id = application["case"]["id"]
    responses = []
    full = """query($id: ID!, $c: ID!) {
      a: node(id: $id) { ... on PermitApplication { nik applicantName form case { timeline { payload } } } }
      c: node(id: $c) { ... on Case { reporterName reporterPhone permit { nik } timeline { type payload } } }
      me { fullName }
    }"""
    for who in (resident, other_resident, "ptsp.staf", "pupr.staf", "dlh.staf", "admin.muba", "pupr.parepare"):
        permits.as_user(who)
        responses.append(json.dumps(permits.gql(full, {"id": application["id"], "c": case_id}), ensure_ascii=False))
        responses.append(
            json.dumps(permits.gql("{ myPermitApplications(first: 5) { edges { node { nik } } } }"), ensure_ascii=False)
        )
    assert all(NIK not in text for text in responses)
    assert any("1606••••••••0001" in text for text in responses)
    # Only the handling agency's staff may see it, and each view is on the record.
    reveal = "mutation($c: ID!) { revealPermitNik(caseId: $c) { nik errors { code } } }"
    for who, code in ((resident, "NOT_FOUND"), ("dlh.staf", "FORBIDDEN"), ("pupr.parepare", "NOT_FOUND")):
        permits.as_user(who)
        result = permits.gql(reveal, {"c": case_id})["revealPermitNik"]
        assert result["nik"] is None and result["errors"][0]["code"] == code
    permits.as_user("ptsp.staf")
    assert permits.gql(reveal, {"c": case_id})["revealPermitNik"] == {"nik": NIK, "errors": []}
    viewed = CaseEvent.objects.get(type="nik_viewed")
    assert viewed.visibility == "internal" and viewed.actor.username == "ptsp.staf"
    assert NIK not in json.dumps(viewed.payload)
    assert NIK not in PermitApplication.objects.get().nik_encrypted


def test_deemed_approval_is_flagged_once(permits, resident):
    permits.filed(resident)
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    assert flag_deemed_approvals() == 1
    assert flag_deemed_approvals() == 0
    event = CaseEvent.objects.get(type="deemed_approval_due")
    assert event.visibility == "public"
    admin = staff_user("admin.muba")
    assert OutboxMessage.objects.filter(event=event, audience=Audience.USER, audience_id=admin.pk).exists()


def test_verification_of_an_expired_permit(permits, resident):
    from backend.permits import selectors

    application = permits.filed(resident)
    row = PermitApplication.objects.get()
    row.issued_at = timezone.now()
    row.valid_from, row.valid_until = dt.date(2020, 1, 1), dt.date(2021, 1, 1)
    row.permit_number = "0009/PBG/DPMPTSP/2020"
    row.save()
    assert selectors.verify(row.verify_token).validity == "expired"
    assert selectors.verify("nope").validity == "not_found"
    assert application["verifyUrl"] is None  # not issued through the API: no verification address shown


def test_drafts_are_the_applicants_alone(permits, resident):
    permits.as_user(resident)
    draft = permits.draft()
    permits.as_user("ptsp.staf")
    assert permits.gql("query($id: ID!) { node(id: $id) { id } }", {"id": draft["id"]})["node"] is None


def test_the_applicant_is_pushed_when_a_revision_is_asked(permits, resident, fcm):
    from backend.accounts.models import Device

    Device.objects.create(user=resident, token="tok-applicant", platform="android", language="id")
    case_id = permits.filed(resident)["case"]["id"]
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    fcm.reset()
    permits.act("requestPermitRevision", case_id, items=[{"field": "nik", "note": "NIK tidak terbaca"}])
    (push,) = fcm.sends
    message = push.body["message"]
    assert message["data"]["eventType"] == "revision_requested" and message["android"]["priority"] == "high"
    assert message["notification"]["body"] == "Silakan perbaiki permohonan Anda."


def test_rotating_the_encryption_key(permits, resident, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from backend.permits import nik

    permits.filed(resident)
    before = PermitApplication.objects.get()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.FIELD_ENCRYPTION_KEYS]
    settings.NIK_HASH_KEY = "a-new-hash-key"
    call_command("rotate_field_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key is gone
    after = PermitApplication.objects.get()
    assert after.nik_encrypted != before.nik_encrypted and nik.decrypt(after.nik_encrypted) == NIK
    assert after.nik_hash == nik.lookup_hash(NIK) != before.nik_hash


def test_the_staff_queue_shows_permits_and_filters_by_type(permits, resident, local_media):
    permits.filed(resident)
    permits.as_user("ptsp.staf")
    page = """query($t: String) { staffQueue(first: 10, filter: {permitType: $t}) {
      edges { node { trackingCode kind status statusLabel photoCount } } } }"""
    (row,) = [edge["node"] for edge in permits.gql(page, {"t": "pbg"})["staffQueue"]["edges"]]
    assert row["trackingCode"].startswith("IZN-") and row["kind"] == "PERMIT"
    assert row["photoCount"] == 0  # documents are not photos
    assert permits.gql(page, {"t": "reklame"})["staffQueue"]["edges"] == []


def test_form_errors_are_said_for_people_on_their_field(permits, resident):
    """jsonschema's own sentences ("-1 is less than or equal to the minimum of 0") stay inside: each answer gets a
    message in the request's language on its own field."""
    permits.as_user(resident)
    draft = permits.draft()
    permits.update(
        draft["id"],
        form={"alamat_bangunan": "pendek", "fungsi": "pabrik", "luas_bangunan": -1, "jumlah_lantai": 1.5, "x": 1},
    )
    errors = {e["field"]: e["message"] for e in permits.submit(draft["id"])["errors"] if e["field"].startswith("form")}
    assert errors == {
        "form.alamat_bangunan": "Paling sedikit 10 karakter.",
        "form.fungsi": "Pilih salah satu: hunian, usaha, sosial_budaya.",
        "form.luas_bangunan": "Harus lebih dari 0.",
        "form.jumlah_lantai": "Harus berupa bilangan bulat.",
        "form.x": "Bukan pertanyaan formulir ini.",
    }


def test_form_titles_follow_the_language(gql, demo):
    query = '{ permitTypes(region: "musi-banyuasin") { formSchema } }'
    for language, title in (("id", "Luas bangunan (m²)"), ("en", "Floor area (m²)")):
        payload = gql.post(query, HTTP_ACCEPT_LANGUAGE=language).json()
        schema = payload["data"]["permitTypes"][0]["formSchema"]
        assert schema["properties"]["luas_bangunan"]["title"] == title
        assert "title_en" not in schema["properties"]["luas_bangunan"]


def test_the_technical_review_cannot_be_skipped(permits, resident):
    """A type that names reviewing agencies: no fee and no signature before its review round (acceptance finding)."""
    case_id = permits.filed(resident)["case"]["id"]
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    skipped = permits.act("assessPermitFee", case_id)
    assert (
        codes(skipped) == [("INVALID_STATE", None)]
        and "kajian teknis terlebih dahulu" in skipped["errors"][0]["message"]
    )
    permits.as_user("ptsp.kadis")
    assert codes(permits.act("approvePermit", case_id)) == [("INVALID_STATE", None)]
    assert Case.objects.get().status == "verification"


def test_a_revision_changes_only_what_the_office_named(permits, resident):
    application = permits.filed(resident)
    case_id = application["case"]["id"]
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    items = [{"document": "bukti_tanah", "note": "Buram"}, {"field": "luas_bangunan", "note": "Cek luas"}]
    assert permits.act("requestPermitRevision", case_id, items=items)["errors"] == []

    permits.as_user(resident)
    swapped = permits.update(application["id"], nik="3171014508900002", applicantName="Orang Lain")
    assert {e["field"] for e in swapped["errors"]} == {"nik", "applicantName"}
    assert {e["code"] for e in swapped["errors"]} == {"INVALID_STATE"}
    unasked = permits.update(application["id"], form={**FORM, "jumlah_lantai": 3})
    assert codes(unasked) == [("INVALID_STATE", "form.jumlah_lantai")]
    # The whole form sent again, with only the named answer changed, and the NIK as it was: accepted.
    assert permits.update(application["id"], nik=NIK, form={**FORM, "luas_bangunan": 150})["errors"] == []
    refused = permits.attach(application["id"], "ktp", "ktp.jpg", jpeg_bytes(), "image/jpeg")
    assert codes(refused) == [("INVALID_STATE", "requirement")]
    assert (
        permits.attach(application["id"], "bukti_tanah", "shm2.pdf", pdf_bytes("SHM"), "application/pdf")["errors"]
        == []
    )
    row = PermitApplication.objects.get()
    assert row.nik_masked == "1606••••••••0001" and row.form_data["luas_bangunan"] == 150
    assert [item.get("revised") for item in row.revision_items] == [True, True]  # both named items were revised
    assert permits.act("resubmitPermitApplication", application["case"]["id"])["errors"] == []
    answered = CaseEvent.objects.get(type="resubmitted").payload["answered"]
    assert [(item.get("document") or item["field"], item["revised"]) for item in answered] == [
        ("bukti_tanah", True),
        ("luas_bangunan", True),
    ]
    assert row.form_data["jumlah_lantai"] == FORM["jumlah_lantai"]


def test_a_review_report_that_is_no_pdf_is_said_so(permits, resident, agency_id):
    case_id = permits.filed(resident)["case"]["id"]
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    permits.act("sendPermitToReview", case_id, agencyIds=[agency_id("dpupr")])
    permits.as_user("pupr.staf")
    from tests.helpers import post_multipart

    query = (
        'mutation($c: ID!, $r: Upload) { recordPermitRecommendation(caseId: $c, recommendation: APPROVE, note: "ok",'
        " report: $r) { errors { code field message } } }"
    )
    answer = post_multipart(
        permits.gql, query, {"c": case_id, "r": None}, {"variables.r": ("r.jpg", jpeg_bytes(), "image/jpeg")}
    ).json()["data"]["recordPermitRecommendation"]["errors"]
    assert [(e["code"], e["field"]) for e in answer] == [("UNSUPPORTED_TYPE", "report")]
    assert answer[0]["message"] == "Jenis berkas ini tidak diterima di sini: kirim PDF."  # Bahasa Indonesia by default
