"""The whole path of a permit through /graphql: draft with documents, submission, a revision round with the clock
paused and resumed, a technical review by two agencies, the fee and its payment (signed callback), approval by the
head, issuance with a certificate whose QR code leads to the verification page, and revocation."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.test import Client
from pypdf import PdfReader

from backend.cases.models import Case, CaseEvent
from backend.permits.models import PermitApplication
from tests.permits.conftest import FORM, NIK, pdf_bytes

pytestmark = pytest.mark.django_db


def fetch(url: str) -> bytes:
    response = Client().get(url.replace("http://testserver", ""))
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_from_draft_to_issued_and_revoked(permits, resident, agency_id, settings):
    settings.PAYMENT_CALLBACK_SECRET = "gateway-secret"
    permits.as_user(resident)
    draft = permits.draft()
    assert draft["status"] == "draft" and draft["case"] is None and draft["permitType"]["version"] == 1

    # Submitting an empty draft reports everything missing at once.
    refused = permits.submit(draft["id"])
    fields = {e["field"] for e in refused["errors"]}
    assert {"nik", "form.alamat_bangunan", "form.luas_bangunan", "documents.ktp", "documents.bukti_tanah"} <= fields
    assert "documents.foto_lokasi" not in fields  # optional
    every = [e["field"] for e in refused["errors"]]
    assert len(every) == len(set(every))  # each missing thing once (it was four times)

    updated = permits.update(draft["id"], nik=NIK, form=FORM)
    assert updated["errors"] == [] and updated["warnings"] == []
    assert updated["application"]["nik"] == "1606••••••••0001"
    permits.attach_all(draft["id"])
    submitted = permits.submit(draft["id"])
    assert submitted["errors"] == [], submitted
    application = submitted["application"]
    case = application["case"]
    assert application["status"] == "submitted" and case["trackingCode"].startswith("IZN-")
    assert case["agency"] == {"code": "dpmptsp"} and case["dueAt"] is not None
    case_id = case["id"]
    case_row = Case.objects.get(tracking_code=case["trackingCode"])
    assert case_row.attachments.filter(requirement="ktp").exists()

    # DPMPTSP checks the file and asks for a better proof of land: the clock stops.
    permits.as_user("ptsp.staf")
    assert permits.act("startPermitVerification", case_id)["case"]["status"] == "verification"
    revision = permits.act(
        "requestPermitRevision", case_id, items=[{"document": "bukti_tanah", "note": "Scan terpotong, unggah ulang."}]
    )
    assert revision["errors"] == [] and revision["case"]["status"] == "revision_requested"
    case_row.refresh_from_db()
    assert case_row.sla_paused_at is not None and case_row.sla_remaining_seconds > 0

    # The applicant sees what to fix, replaces the document and resubmits: the clock runs again.
    permits.as_user(resident)
    mine = permits.gql("{ myPermitApplications(first: 5) { edges { node { revisionItems status } } } }")
    assert mine["myPermitApplications"]["edges"][0]["node"]["revisionItems"][0]["document"] == "bukti_tanah"
    assert (
        permits.attach(application["id"], "bukti_tanah", "shm2.pdf", pdf_bytes("SHM lengkap"), "application/pdf")[
            "errors"
        ]
        == []
    )
    resubmitted = permits.act("resubmitPermitApplication", case_id)
    assert resubmitted["errors"] == [] and resubmitted["case"]["status"] == "resubmitted"
    case_row.refresh_from_db()
    assert case_row.sla_paused_at is None and case_row.sla_paused_seconds >= 0
    assert case_row.permit.revision_items == []
    assert case_row.attachments.filter(requirement="bukti_tanah").count() == 1  # one file: replaced

    # Technical review by DPUPR and DLH.
    permits.as_user("ptsp.staf")
    permits.act("startPermitVerification", case_id)
    assert permits.act("sendPermitToReview", case_id)["case"]["status"] == "technical_review"
    early = permits.act("assessPermitFee", case_id)
    assert early["errors"][0]["code"] == "INVALID_STATE" and "DLH" in early["errors"][0]["message"]
    permits.as_user("pupr.staf")
    from tests.helpers import post_multipart

    response = post_multipart(
        permits.gql,
        "mutation($c: ID!, $f: Upload) { recordPermitRecommendation(caseId: $c, recommendation: APPROVE, "
        'note: "Struktur memenuhi SNI", inspectionDate: "2026-11-24", report: $f) { errors { code field } } }',
        {"c": case_id, "f": None},
        {"variables.f": ("laporan.pdf", pdf_bytes("Laporan"), "application/pdf")},
    )
    assert response.json()["data"]["recordPermitRecommendation"]["errors"] == []
    permits.as_user("dlh.staf")
    dlh = permits.act(
        "recordPermitRecommendation", case_id, recommendation="APPROVE_WITH_CONDITIONS", note="Sumur resapan"
    )
    assert dlh["errors"] == []
    again = permits.act("recordPermitRecommendation", case_id, recommendation="REJECT", note="x")
    assert again["errors"][0]["code"] == "ALREADY_DONE"

    # The fee follows the type's formula: max(150000, 120 m² × 12500 × (1 + 1 × 0.25)).
    permits.as_user("ptsp.staf")
    assessed = permits.act("assessPermitFee", case_id)
    assert assessed["errors"] == [] and assessed["case"]["status"] == "fee_assessed"
    permit = assessed["case"]["permit"]
    assert permit["feeAmount"] == 1_875_000
    assert {r["agency"]["code"]: r["recommendation"] for r in permit["reviews"]} == {
        "dpupr": "APPROVE",
        "dlh": "APPROVE_WITH_CONDITIONS",
    }
    premature = permits.act("approvePermit", case_id)
    assert premature["errors"][0]["code"] in ("FORBIDDEN", "INVALID_STATE")

    # The payment gateway's callback: a bad signature is refused, a good one records the payment once.
    body = json.dumps({"reference": permit["paymentReference"], "amount": 1_875_000}).encode()
    http = Client()
    bad = http.post("/integrations/payments", body, content_type="application/json", HTTP_X_SIMPUL_SIGNATURE="sha256=0")
    assert bad.status_code == 401
    signature = "sha256=" + hmac.new(b"gateway-secret", body, hashlib.sha256).hexdigest()
    paid = http.post("/integrations/payments", body, content_type="application/json", HTTP_X_SIMPUL_SIGNATURE=signature)
    assert paid.status_code == 200 and paid.json()["status"] == "recorded"
    twice = http.post(
        "/integrations/payments", body, content_type="application/json", HTTP_X_SIMPUL_SIGNATURE=signature
    )
    assert twice.json()["status"] == "already_done"
    case_row.refresh_from_db()
    assert case_row.status == "paid"

    # Only the head signs; then the office issues.
    permits.as_user("ptsp.staf")
    assert permits.act("approvePermit", case_id)["errors"][0]["code"] == "FORBIDDEN"
    permits.as_user("ptsp.kadis")
    assert permits.act("approvePermit", case_id)["case"]["status"] == "approved"
    permits.as_user("ptsp.staf")
    issued = permits.act("issuePermit", case_id)
    assert issued["errors"] == [], issued
    permit = issued["case"]["permit"]
    assert permit["status"] == "issued" and permit["permitNumber"] == "0001/PBG/DPMPTSP/2026"
    assert permit["officialName"] == "Drs. Yudi Pratama"
    assert permit["validUntil"] is not None and permit["verifyUrl"].startswith(settings.PUBLIC_BASE_URL + "/verify/")

    # The certificate opens, names the permit and the holder with the NIK masked, and prints the QR code's URL.
    pdf = PdfReader(io.BytesIO(fetch(permit["certificateUrl"])))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert permit["permitNumber"] in text and "PERSETUJUAN BANGUNAN GEDUNG" in text
    assert "1606••••••••0001" in text or "1606" in text
    assert NIK not in text
    assert permit["verifyUrl"] in text.replace("\n", "")
    from backend.permits.certificate import qr_drawing

    assert qr_drawing(permit["verifyUrl"]).contents[0].value == permit["verifyUrl"]

    # Verification: valid, then revoked by the region admin.
    token = permit["verifyUrl"].rsplit("/", 1)[1]
    query = "query($t: String!) { verifyPermit(token: $t) { validity permitNumber holder revokeReason } }"
    assert permits.gql(query, {"t": token})["verifyPermit"]["validity"] == "VALID"
    page = Client().get(f"/verify/{token}")
    assert page.status_code == 200 and "BERLAKU" in page.content.decode()
    permits.as_user("admin.muba")
    revoked = permits.act("revokePermit", case_id, reason="Bangunan melanggar garis sempadan")
    assert revoked["case"]["status"] == "revoked"
    result = permits.gql(query, {"t": token})["verifyPermit"]
    assert result["validity"] == "REVOKED" and result["revokeReason"] == "Bangunan melanggar garis sempadan"
    assert "DICABUT" in Client().get(f"/verify/{token}").content.decode()
    assert Client().get("/verify/not-a-token").status_code == 404

    # Every step is on the record, and the chain of events holds.
    from backend.cases.selectors import verify_chain

    types = list(CaseEvent.objects.filter(case=case_row).order_by("seq").values_list("type", flat=True))
    assert types == [
        "submitted",
        "verification_started",
        "revision_requested",
        "resubmitted",
        "verification_started",
        "review_started",
        "recommendation_recorded",
        "recommendation_recorded",
        "fee_assessed",
        "payment_recorded",
        "approved",
        "issued",
        "revoked",
    ]
    assert verify_chain(case_row) is None
    assert PermitApplication.objects.get(case=case_row).nik_encrypted != NIK
