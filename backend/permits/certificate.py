"""The permit certificate: an A4 PDF (ReportLab) with the region and agency header, the permit's details, the holder
with the NIK masked, the validity, the signing official's name, and a QR code of the public verification URL (also
printed under it, for people without a camera)."""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

QR_SIDE = 38 * mm
MARGIN = 20 * mm


def qr_drawing(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(QR_SIDE, QR_SIDE, transform=[QR_SIDE / (x1 - x0), 0, 0, QR_SIDE / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _lines(text: str, font: str, size: float, width: float) -> list[str]:
    """`text` broken at spaces into lines no wider than `width` points (a word longer than that on its own line)."""
    return simpleSplit(str(text), font, size, width) or [""]


def _centred(pdf, y: float, text: str, font: str, size: float, width: float, page_width: float) -> float:
    """Centred lines of `text` from `y` down; returns the y below them."""
    pdf.setFont(font, size)
    for line in _lines(text, font, size, width):
        pdf.drawCentredString(page_width / 2, y, line)
        y -= size * 1.25
    return y


def _block(pdf, x: float, y: float, text: str, font: str, size: float, width: float) -> float:
    """Left-aligned lines of `text` at `x` from `y` down; returns the y below them."""
    pdf.setFont(font, size)
    for line in _lines(text, font, size, width):
        pdf.drawString(x, y, line)
        y -= size * 1.3
    return y


def render(application, *, verify_url: str) -> bytes:
    """The certificate of an issued application, in Bahasa Indonesia (the language of the region's documents).
    Every text that comes from data (names of the region, agency, permit, holder, official) wraps within the page's
    margins: the longest real OPD names take two or three lines (tests/permits/test_certificate.py)."""
    version = application.type_version
    case = application.case
    with translation.override("id"):
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
        pdf.setTitle(f"{version.name_id} {application.permit_number}")
        pdf.setAuthor(version.handling_agency.name)
        width, height = A4
        text_width = width - 2 * MARGIN
        y = height - 25 * mm
        y = _centred(pdf, y, application.region.name.upper(), "Helvetica-Bold", 13, text_width, width) - 1 * mm
        y = _centred(pdf, y, version.handling_agency.name.upper(), "Helvetica-Bold", 11, text_width, width)
        y += 2 * mm
        pdf.line(MARGIN, y, width - MARGIN, y)
        y -= 14 * mm
        y = _centred(pdf, y, version.name_id.upper(), "Helvetica-Bold", 16, text_width, width) + 1 * mm
        number = _("Number: %(number)s") % {"number": application.permit_number}
        y = _centred(pdf, y, number, "Helvetica", 11, text_width, width) - 12 * mm
        holder = application.business_name or application.applicant_name
        rows = [
            (_("Holder"), holder),
            (_("Applicant"), application.applicant_name),
            ("NIK", application.nik_masked or "-"),
            ("NIB", application.nib or "-"),
            (_("Tracking code"), case.tracking_code),
            (_("Valid from"), date_format(application.valid_from, "j F Y")),
            (
                _("Valid until"),
                date_format(application.valid_until, "j F Y") if application.valid_until else _("indefinitely"),
            ),
        ]
        value_x = 70 * mm
        for label, value in rows:
            pdf.setFont("Helvetica", 11)
            pdf.drawString(25 * mm, y, label)
            pdf.drawString(value_x, y, ":")
            y = _block(pdf, value_x + 3 * mm, y, value, "Helvetica", 11, width - MARGIN - value_x - 3 * mm)
            y -= 7 * mm - 11 * 1.3
        y -= 10 * mm
        signature_x = width - 90 * mm
        signature_width = width - MARGIN - signature_x
        issued = date_format(application.issued_at.astimezone(application.region.tz), "j F Y")
        y = _block(pdf, signature_x, y, _("Issued on %(date)s") % {"date": issued}, "Helvetica", 11, signature_width)
        y = _block(pdf, signature_x, y, version.handling_agency.name, "Helvetica", 11, signature_width)
        y -= 18 * mm
        _block(pdf, signature_x, y, application.official_name or "-", "Helvetica-Bold", 11, signature_width)
        renderPDF.draw(qr_drawing(verify_url), pdf, 25 * mm, 30 * mm)
        check = _("Check this permit: %(url)s") % {"url": verify_url}
        _block(pdf, 25 * mm, 25 * mm, check, "Helvetica", 8, text_width - 5 * mm)
        pdf.showPage()
        pdf.save()
        return buffer.getvalue()
