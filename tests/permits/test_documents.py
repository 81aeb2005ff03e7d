"""Documents people upload are served as downloads, never shown by the browser as a page of this site: a PDF that
carries JavaScript is stored as uploaded (its bytes are not scanned), and its link, local or presigned S3, says
`Content-Disposition: attachment`."""

from __future__ import annotations

import requests

from tests.permits.conftest import APPLICATION, jpeg_bytes

# A well-formed PDF whose opening action runs JavaScript in a viewer that allows it.
SCRIPTED_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\('hi'\\)) >> >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


def documents(permits, application_id: str) -> dict:
    query = "query($id: ID!) { node(id: $id) { ...A } } " + APPLICATION
    return {d["requirement"]: d for d in permits.gql(query, {"id": application_id})["node"]["documents"]}


def test_a_scripted_pdf_is_served_as_a_download(permits, resident):
    permits.as_user(resident)
    application = permits.draft()
    assert (
        permits.attach(application["id"], "bukti_tanah", "sertifikat tanah é.pdf", SCRIPTED_PDF, "application/pdf")[
            "errors"
        ]
        == []
    )
    assert permits.attach(application["id"], "ktp", "ktp.jpg", jpeg_bytes(), "image/jpeg")["errors"] == []
    found = documents(permits, application["id"])
    pdf = permits.gql.http.get(found["bukti_tanah"]["url"])
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content) == SCRIPTED_PDF
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith('attachment; filename="sertifikat tanah _.pdf"')
    assert "filename*=UTF-8''sertifikat%20tanah%20%C3%A9.pdf" in pdf["Content-Disposition"]
    assert "sandbox" in pdf["Content-Security-Policy"] and pdf["X-Content-Type-Options"] == "nosniff"
    scan = permits.gql.http.get(found["ktp"]["url"])  # a scan is a document too: a download
    assert scan["Content-Disposition"].startswith('attachment; filename="ktp.jpg"')


def test_on_s3_the_presigned_link_is_a_download_too(permits, resident, s3):
    permits.as_user(resident)
    application = permits.draft()
    assert permits.attach(application["id"], "bukti_tanah", "shm.pdf", SCRIPTED_PDF, "application/pdf")["errors"] == []
    url = documents(permits, application["id"])["bukti_tanah"]["url"]
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == SCRIPTED_PDF
    assert fetched.headers["Content-Disposition"].startswith('attachment; filename="shm.pdf"')


def test_scans_that_would_break_the_decoder_get_their_own_error(permits, resident):
    """What photos of complaints were already refused for, permit scans are refused for too (they were a server
    error): a decompression bomb, a header claiming 60,000 x 60,000 pixels, a scan cut off in transfer."""
    from tests.media.test_images import jpeg_claiming, png_claiming

    whole = jpeg_bytes()
    permits.as_user(resident)
    application = permits.draft()
    for name, data, content_type, code in (
        ("bomb.png", png_claiming(30_000, 30_000), "image/png", "TOO_MANY_PIXELS"),
        ("huge.jpg", jpeg_claiming(60_000, 60_000), "image/jpeg", "TOO_MANY_PIXELS"),
        ("cut.jpg", whole[: len(whole) // 2], "image/jpeg", "CORRUPT"),
    ):
        result = permits.attach(application["id"], "ktp", name, data, content_type)
        assert [(e["code"], e["field"]) for e in result["errors"]] == [(code, "file")], (name, result)
    assert documents(permits, application["id"]) == {}


def test_a_truncated_pdf_is_a_damaged_document_not_an_image(permits, resident):
    from tests.permits.conftest import pdf_bytes

    permits.as_user(resident)
    application = permits.draft()
    cut = pdf_bytes("SHM")[:-200]
    [error] = permits.attach(application["id"], "bukti_tanah", "shm.pdf", cut, "application/pdf")["errors"]
    assert (error["code"], error["field"]) == ("CORRUPT", "file")
    assert error["message"] == "PDF rusak atau tidak lengkap. Simpan atau pindai ulang."  # it said "Gambar rusak"
