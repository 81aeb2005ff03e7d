"""Permits in the staff console, as a browser's requests: an application filed through the API is verified, sent
back for a revision, reviewed by two agencies (one with a PDF report), assessed, paid, signed by the head and issued,
its certificate downloaded; the NIK masked and revealed only to the handling agency, each view on the timeline; and
every refusal (role, state, region, stale page, bad input) shown without a change. Also: a complaint resolved with a
photo of the result."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backend.cases.models import Case, CaseEvent
from backend.permits.models import PermitReview
from media.models import Attachment
from tests.console.test_pages import browser, case_url, post
from tests.helpers import staff_user
from tests.permits.conftest import NIK, Permits, jpeg_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


def staff(username: str) -> Client:
    """A staff member's browser, in English (the messages these tests read)."""
    return browser(username, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def permits(gql, demo, local_media):
    return Permits(gql)


@pytest.fixture
def filed(permits, resident) -> Case:
    application = permits.filed(resident)
    return Case.objects.get(tracking_code=application["case"]["trackingCode"])


def page(client: Client, case: Case) -> str:
    response = client.get(case_url(case))
    assert response.status_code == 200
    return response.content.decode()


def act(client: Client, case: Case, action: str, data: dict | None = None, *, stale: bool = False) -> str:
    """Post one action with the version the page shows (or an old one), follow the redirect, return the page."""
    case.refresh_from_db()
    version = case.version - 1 if stale else case.version
    response = post(client, case_url(case, action), {"version": version, **(data or {})})
    if response.status_code == 302:  # done: back to the case page
        return client.get(response["Location"]).content.decode()
    assert response.status_code in (400, 409), response.content[:500]  # refused: the page, with what was typed
    return response.content.decode()


def status(case: Case) -> str:
    case.refresh_from_db()
    return case.status


def download(url: str) -> bytes:
    response = Client().get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_application_from_verification_to_its_certificate(filed, permits, resident):
    office = staff("ptsp.staf")
    shown = page(office, filed)
    assert "1606••••••••0001" in shown and NIK not in shown  # masked
    assert "Jl. Merdeka No. 10, Sekayu" in shown  # the form's answers, by their questions
    assert "denah.pdf" in shown and "shm.pdf" in shown  # the documents, with links
    document_links = re.findall(r'href="(/media/[^"]+)"', shown)
    assert document_links and download(document_links[0].replace("&amp;", "&"))
    assert 'name="version"' in shown and "/verify" in shown  # the verify action is offered

    assert "Revision requested" not in act(office, filed, "verify")
    assert status(filed) == "verification"

    # A revision names a field or a document; an empty form says so and changes nothing.
    shown = act(office, filed, "request_revision", {"target_0": "", "note_0": ""})
    assert "Say what needs revising." in shown and status(filed) == "verification"
    shown = act(office, filed, "request_revision", {"target_0": "document:bukti_tanah", "note_0": "Scan is blurred"})
    assert status(filed) == "revision_requested" and "Scan is blurred" in shown
    filed.refresh_from_db()
    assert filed.sla_paused_at is not None  # the clock stops while the applicant revises

    permits.as_user(resident)
    assert permits.act("resubmitPermitApplication", permits_case_id(filed), version=filed.version)["errors"] == []
    act(office, filed, "verify")

    # Sent to the type's reviewers (checked by default); the reviewers see it above their queue.
    shown = page(office, filed)
    checked = re.findall(r'name="agencies" value="(\d+)" checked', shown)
    assert len(checked) == 2
    act(office, filed, "send_to_review", {"agencies": checked})
    assert status(filed) == "technical_review"
    reviewer = staff("pupr.staf")
    queue = reviewer.get("/console/").content.decode()
    assert "Technical reviews asked of your agency" in queue and filed.tracking_code in queue

    # The fee cannot be assessed before every review is in.
    shown = act(office, filed, "assess_fee")
    assert "Waiting for the technical review of" in shown and status(filed) == "technical_review"

    shown = post(
        reviewer,
        case_url(filed, "recommend"),
        {
            "version": 0,  # a recommendation does not go stale: another step meanwhile does not refuse it
            "recommendation": "approve_with_conditions",
            "text": "Sempadan jalan 5 m",
            "inspection_date": "2026-12-01",
            "report": SimpleUploadedFile("laporan.pdf", pdf_bytes("Laporan"), content_type="application/pdf"),
        },
    )
    assert shown.status_code == 302
    review = PermitReview.objects.get(application__case=filed, agency__code="dpupr")
    assert review.recommendation == "approve_with_conditions" and review.report is not None
    assert "/recommend" not in page(reviewer, filed)  # recorded: not offered again
    assert "Technical reviews asked" not in reviewer.get("/console/").content.decode()
    post(
        staff("dlh.staf"),
        case_url(filed, "recommend"),
        {"version": 0, "recommendation": "approve", "text": "Tidak perlu AMDAL"},
    )

    shown = act(office, filed, "assess_fee")
    assert status(filed) == "fee_assessed" and "payment reference" in shown
    act(office, filed, "record_payment")
    assert status(filed) == "paid"
    assert "/approve" not in page(office, filed)  # the head signs, not the staff
    head = staff("ptsp.kadis")
    act(head, filed, "approve")
    assert status(filed) == "approved"
    shown = act(office, filed, "issue")
    assert status(filed) == "issued"
    certificate = re.search(r'href="(/media/[^"]+)">[^<]*certificate', shown, re.IGNORECASE)
    assert certificate and download(certificate.group(1).replace("&amp;", "&")).startswith(b"%PDF")
    filed.permit.refresh_from_db()
    assert filed.permit.permit_number in shown and "Laporan" not in shown
    assert "Sempadan jalan 5 m" in shown and "Approve with conditions" in shown  # the reviews, on the page


def permits_case_id(case: Case) -> str:
    from graphql_relay import to_global_id

    return to_global_id("Case", case.pk)


def test_the_nik_is_revealed_to_the_handling_agency_only_and_each_view_is_on_the_timeline(filed):
    office = staff("ptsp.staf")
    response = post(office, case_url(filed, "reveal_nik"), {})
    assert response.status_code == 200
    assert NIK in response.content.decode() and response["Cache-Control"] == "no-store"
    assert CaseEvent.objects.filter(case=filed, type="nik_viewed").count() == 1
    assert NIK not in page(office, filed)  # the next page is masked again
    assert "Whole NIK viewed" in page(office, filed)

    reviewer = staff("pupr.staf")
    assert "/reveal_nik" not in page(reviewer, filed)
    response = post(reviewer, case_url(filed, "reveal_nik"), {})
    assert response.status_code == 400 and NIK not in response.content.decode()
    assert staff("admin.parepare").post(case_url(filed, "reveal_nik")).status_code == 404
    assert CaseEvent.objects.filter(case=filed, type="nik_viewed").count() == 1


def test_refusals_and_bad_input_change_nothing(filed):
    office = staff("ptsp.staf")
    act(office, filed, "verify")
    before = filed.version + 1
    shown = act(office, filed, "issue")
    assert "cannot be done while the case is" in shown
    shown = act(office, filed, "approve")
    assert "You may not do this on this case." in shown
    shown = act(office, filed, "request_revision", {"target_0": "field:no_such_question", "note_0": "x"})
    assert "Name one form field or one document" in shown
    shown = act(office, filed, "send_to_review", {"agencies": ["x"]})
    assert "Choose from the list." in shown
    shown = act(office, filed, "note", {"text": "ok"}, stale=True)
    assert "changed meanwhile" in shown
    shown = act(office, filed, "reject", {"text": "x"})
    assert "You may not do this" in shown  # the head refuses, not the staff
    filed.refresh_from_db()
    assert filed.version == before and filed.status == "verification"

    act(office, filed, "send_to_review", {"agencies": [a.pk for a in filed.region.agencies.filter(code="dpupr")]})
    reviewer = staff("pupr.staf")
    for data, message in (
        ({"recommendation": "approve", "text": "x", "inspection_date": "kemarin"}, "YYYY-MM-DD"),
        ({"recommendation": "maybe", "text": "x"}, "Unknown recommendation."),
        (
            {
                "recommendation": "approve",
                "text": "x",
                "report": SimpleUploadedFile("r.pdf", b"not a pdf", content_type="application/pdf"),
            },
            "",
        ),
    ):
        response = post(reviewer, case_url(filed, "recommend"), {"version": 0, **data})
        assert response.status_code == 400
        shown = response.content.decode()
        assert message in shown and 'class="messages' in shown
        assert ">x</textarea>" in shown  # the note typed is kept
        select = re.search(r'name="recommendation".*?</select>', shown, re.DOTALL).group(0)
        chosen = re.findall(r'<option value="([a-z_]+)" selected>', select)
        assert chosen == ([data["recommendation"]] if data["recommendation"] != "maybe" else [])
    assert PermitReview.objects.get(application__case=filed).recorded_at is None
    assert not Attachment.objects.filter(case=filed, requirement="review_report").exists()
    assert staff("admin.parepare").get(case_url(filed)).status_code == 404


def test_queue_filters_by_kind(filed, road_complaint):
    admin = staff("admin.muba")
    permits_only = admin.get("/console/?kind=permit").content.decode()
    complaints_only = admin.get("/console/?kind=complaint").content.decode()
    assert filed.tracking_code in permits_only and filed.tracking_code not in complaints_only
    assert "ADU-" in complaints_only and "ADU-" not in permits_only


def test_resolve_with_a_photo_of_the_result(demo, road_complaint, local_media):
    case = road_complaint
    worker = staff("pupr.staf")
    act(worker, case, "accept")
    shown = act(worker, case, "start")
    assert 'name="photo"' in shown and 'enctype="multipart/form-data"' in shown

    photos_before = case.attachments.filter(kind="photo").count()
    case.refresh_from_db()
    bad = post(
        worker,
        case_url(case, "resolve"),
        {
            "version": case.version,
            "text": "Ditambal",
            "photo": SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg"),
        },
    )
    assert status(case) == "in_progress" and bad.status_code == 400
    assert 'class="messages' in bad.content.decode() and ">Ditambal</textarea>" in bad.content.decode()
    assert case.attachments.filter(kind="photo").count() == photos_before

    post(
        worker,
        case_url(case, "resolve"),
        {
            "version": case.version,
            "text": "Ditambal",
            "photo": SimpleUploadedFile("hasil.jpg", jpeg_bytes(), content_type="image/jpeg"),
        },
    )
    assert status(case) == "resolved"
    result = case.attachments.get(requirement="result")
    assert result.kind == "photo" and result.position == photos_before and result.small_key
    event = case.events.get(type="resolved")
    assert event.payload == {"action": "resolve", "from": "in_progress", "to": "resolved", "note": "Ditambal",
                             "photo": str(result.pk)}  # fmt: skip


def test_identity_documents_are_for_the_handling_agency_only(filed, gql):
    """The KTP shows the whole NIK: like the NIK, only the handling agency sees it (acceptance finding)."""
    act(staff("ptsp.staf"), filed, "verify")
    act(
        staff("ptsp.staf"),
        filed,
        "send_to_review",
        {"agencies": [a.pk for a in filed.region.agencies.filter(code="dpupr")]},
    )
    assert "ktp.jpg" in page(staff("ptsp.staf"), filed) and "ktp.jpg" in page(staff("ptsp.kadis"), filed)
    for username in ("pupr.staf", "dishub.staf", "admin.muba"):  # a reviewer, another agency, the region's admin
        shown = page(staff(username), filed)
        assert "ktp.jpg" not in shown and "shm.pdf" in shown, username
    query = "query($c: ID!) { node(id: $c) { ... on Case { permit { documents { requirement } } } } }"
    gql.sign_in_as(staff_user("pupr.staf"))
    seen = gql(query, {"c": permits_case_id(filed)})["node"]["permit"]["documents"]
    assert "ktp" not in {d["requirement"] for d in seen} and seen


def test_showing_the_nik_does_not_make_open_pages_stale(filed):
    office, head = staff("ptsp.staf"), staff("ptsp.kadis")
    filed.refresh_from_db()
    shown_version = filed.version
    revealed = post(office, case_url(filed, "reveal_nik"), {}).content.decode()
    assert f'name="version" value="{shown_version}"' in revealed
    post(head, case_url(filed, "reveal_nik"), {})
    response = post(office, case_url(filed, "verify"), {"version": shown_version})
    assert response.status_code == 302 and status(filed) == "verification"  # not "changed meanwhile"


def test_steps_not_ready_say_why_and_names_are_read_as_people_read_them(filed, permits, resident):
    office = staff("ptsp.staf")
    shown = act(office, filed, "verify")
    assert "/assess_fee" not in shown and "Send the application to its technical review first." in shown
    assert "Business name" not in shown and "Applicant&#x27;s name" in shown  # an individual: no business fields
    shown = act(office, filed, "request_revision", {"target_0": "field:luas_bangunan", "note_0": "Cek luas"})
    assert "Floor area" in shown or "Luas bangunan" in shown
    assert "luas_bangunan:" not in shown  # never the raw code
    permits.as_user(resident)
    filed.refresh_from_db()
    permits.act("resubmitPermitApplication", permits_case_id(filed), version=filed.version)
    shown = page(office, filed)
    assert "sent back unchanged: " in shown and "Revised:" not in shown  # nothing was changed, and it says so
