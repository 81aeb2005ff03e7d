"""How a console form's fields become a service's arguments: readers of one posted request each. A reader refuses
what no service could take (a NUL, a number that is not one, a date that is not one) with the typed error the
service would give; every other rule is the service's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils.translation import gettext as _

from backend.cases.errors import CaseErrorCode
from backend.errors import DomainError

Reader = Callable[[object], object]


def _clean(value: str, field: str) -> str:
    if "\x00" in value:
        raise DomainError(CaseErrorCode.INVALID, _("The text holds a character that cannot be stored."), field=field)
    return value


def text(name: str) -> Reader:
    def read(request) -> str:
        return _clean(request.POST.get(name, ""), name)

    return read


def number(name: str) -> Reader:
    def read(request) -> int:
        try:
            return int(request.POST.get(name, ""))
        except ValueError:
            if name == "version":
                raise DomainError(CaseErrorCode.CONFLICT, _("Reload the page and try again."), field=name) from None
            raise DomainError(CaseErrorCode.INVALID, _("Choose one from the list."), field=name) from None

    return read


def numbers(name: str) -> Reader:
    """The values of a group of check boxes."""

    def read(request) -> list[int]:
        try:
            return [int(value) for value in request.POST.getlist(name)]
        except ValueError:
            raise DomainError(CaseErrorCode.INVALID, _("Choose from the list."), field=name) from None

    return read


def date(name: str) -> Reader:
    """An optional date (YYYY-MM-DD, as a date field sends it)."""

    def read(request) -> dt.date | None:
        value = request.POST.get(name, "").strip()
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise DomainError(CaseErrorCode.INVALID, _("Give a date as YYYY-MM-DD."), field=name) from None

    return read


def file(name: str) -> Reader:
    """An optional uploaded file (the form is multipart)."""

    def read(request):
        return request.FILES.get(name)

    return read


def rows(prefix: str, fields: tuple[str, ...]) -> Reader:
    """Numbered rows of a form (`target_0`, `note_0`, `target_1`, …), the empty ones left out."""

    def read(request) -> list[dict[str, str]]:
        found = []
        for index in range(20):
            row = {field: _clean(request.POST.get(f"{field}_{index}", ""), f"{prefix}.{index}") for field in fields}
            if any(value.strip() for value in row.values()):
                found.append(row)
        return found

    return read
