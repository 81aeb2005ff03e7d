"""The certificate prints right: every line stays within the A4 page, with the longest names real regions and OPDs
carry. Rendered by backend.permits.certificate from real (unsaved) model instances, read back with pypdf, and each
line measured with the font it was drawn in."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from backend.cases.models import Case
from backend.permits.certificate import render
from backend.permits.models import PermitApplication, PermitTypeVersion
from backend.regions.models import Agency, Region

LONGEST_AGENCY = "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Penukal Abab Lematang Ilir"
LONGEST_REGION = "Pemerintah Kabupaten Penukal Abab Lematang Ilir Provinsi Sumatera Selatan"
LONG_PERMIT = "Persetujuan Bangunan Gedung dan Sertifikat Laik Fungsi untuk Bangunan Gedung Fungsi Usaha"
LONG_HOLDER = "PT Perkebunan Kelapa Sawit dan Industri Hilir Minyak Nabati Sumatera Bagian Selatan Sejahtera Tbk"
OFFICIAL = "Dr. Ir. H. Muhammad Abdurrahman Wahid Syamsuddin Alamsyah, S.T., M.T., M.Sc., IPU, ASEAN Eng."


def certificate(agency: str, region: str) -> bytes:
    region_row = Region(name=region, code="16.12", timezone="Asia/Jakarta")
    version = PermitTypeVersion(name_id=LONG_PERMIT, handling_agency=Agency(name=agency))
    application = PermitApplication(
        region=region_row,
        type_version=version,
        case=Case(tracking_code="IZN-2026-000001"),
        permit_number="0001/PBG-SLF/DPMPTSP/2026",
        business_name=LONG_HOLDER,
        applicant_name="Siti Nurhaliza binti Abdul Rahman Al-Palembangi",
        nik_masked="1612••••••••0001",
        nib="1234567890123",
        valid_from=date(2026, 12, 6),
        valid_until=None,
        issued_at=datetime(2026, 12, 6, 3, tzinfo=UTC),
        official_name=OFFICIAL,
    )
    return render(application, verify_url="https://simpul.pali.go.id/verify/" + "x" * 80)


def drawn_lines(pdf: bytes) -> list[tuple[str, float, float, float]]:
    """Each piece of text with its left edge, its width and its baseline, in points."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
            y = cm[1] * tm[4] + cm[3] * tm[5] + cm[5]
            name = str(font["/BaseFont"]).lstrip("/")
            found.append((text, x, stringWidth(text, name, size * tm[0]), y))

    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(visitor_text=visit)
    return found


def test_the_longest_names_wrap_within_the_page():
    lines = drawn_lines(certificate(LONGEST_AGENCY, LONGEST_REGION))
    width = A4[0]
    outside = [(text, round(x), round(x + w)) for text, x, w, _y in lines if x < 0 or x + w > width - 15]
    assert outside == []
    # Nothing runs into the QR code (30 mm from the bottom, 38 mm high): below its top there is only the caption
    # naming its URL, from 25 mm down.
    qr_top = (30 + 38) * mm
    low = [(text, round(y)) for text, _x, _w, y in lines if 25 * mm + 1 < y < qr_top]
    assert low == []
    text = " ".join(t for t, _x, _w, _y in lines)
    for name in (LONGEST_AGENCY.upper(), LONG_HOLDER, OFFICIAL):  # nothing cut off: every word is there
        assert all(word in text for word in name.split())
