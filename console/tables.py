"""Tables the console exports, as CSV (streamed) or XLSX (written by openpyxl in its write-only mode): the header
row, then rows of plain values (text, numbers, dates)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from django.http import HttpResponse, StreamingHttpResponse
from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    def write(self, value):
        return value


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # how a spreadsheet cell starts a formula


def _cell(value):
    """A value as a cell that is never a formula: text a resident wrote (a name, a description) starting like one is
    kept as text with a leading apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value


def _csv_value(value) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(_cell(value))


def respond(rows: Iterable[list], *, name: str, format: str, sheet: str) -> HttpResponse:
    """`rows` (the header first) as a download `name`.csv or `name`.xlsx."""
    if format == "xlsx":
        book = Workbook(write_only=True)
        table = book.create_sheet(title=sheet[:31])
        for row in rows:
            table.append([value.replace(tzinfo=None) if isinstance(value, datetime) else _cell(value) for value in row])
        body = io.BytesIO()
        book.save(body)
        response = HttpResponse(body.getvalue(), content_type=XLSX)
    else:
        writer = csv.writer(_Echo())

        def lines():
            yield "\ufeff"  # so spreadsheet programs read UTF-8
            for row in rows:
                yield writer.writerow([_csv_value(value) for value in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.{format}"'
    return response
