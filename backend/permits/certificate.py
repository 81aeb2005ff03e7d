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
from reportlab.pdfgen import canvas

QR_SIDE = 38 * mm


def qr_drawing(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(QR_SIDE, QR_SIDE, transform=[QR_SIDE / (x1 - x0), 0, 0, QR_SIDE / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(application, *, verify_url: str) -> bytes:
    """The certificate of an issued application, in Bahasa Indonesia (the language of the region's documents)."""
    version = application.type_version
    case = application.case
    with translation.override("id"):
        buffer = io.BytesIO()
        pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
        pdf.setTitle(f"{version.name_id} {application.permit_number}")
        pdf.setAuthor(version.handling_agency.name)
        width, height = A4
        y = height - 25 * mm
        pdf.setFont("Helvetica-Bold", 13)
        pdf.drawCentredString(width / 2, y, application.region.name.upper())
        y -= 6 * mm
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawCentredString(width / 2, y, version.handling_agency.name.upper())
        y -= 4 * mm
        pdf.line(20 * mm, y, width - 20 * mm, y)
        y -= 14 * mm
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawCentredString(width / 2, y, version.name_id.upper())
        y -= 7 * mm
        pdf.setFont("Helvetica", 11)
        pdf.drawCentredString(width / 2, y, _("Number: %(number)s") % {"number": application.permit_number})
        y -= 16 * mm
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
        for label, value in rows:
            pdf.setFont("Helvetica", 11)
            pdf.drawString(25 * mm, y, label)
            pdf.drawString(70 * mm, y, f": {value}")
            y -= 7 * mm
        y -= 10 * mm
        pdf.drawString(
            width - 90 * mm,
            y,
            _("Issued on %(date)s")
            % {"date": date_format(application.issued_at.astimezone(application.region.tz), "j F Y")},
        )
        y -= 6 * mm
        pdf.drawString(width - 90 * mm, y, version.handling_agency.name)
        y -= 22 * mm
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(width - 90 * mm, y, application.official_name or "-")
        renderPDF.draw(qr_drawing(verify_url), pdf, 25 * mm, 30 * mm)
        pdf.setFont("Helvetica", 8)
        pdf.drawString(25 * mm, 25 * mm, _("Check this permit: %(url)s") % {"url": verify_url})
        pdf.showPage()
        pdf.save()
        return buffer.getvalue()
