"""The one exception type services raise for an expected refusal, turned into typed GraphQL errors by `schema/`."""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """An expected failure: bad input, a refused permission, a conflicting state.

    `code` is a member of the domain's error-code enum; `field` names the input field at fault (None: the whole
    request); `message` is translated text for people; `params` carries machine-readable detail (e.g. retry after).
    """

    def __init__(self, code: StrEnum, message: str, *, field: str | None = None, **params):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        self.params = params

    def __repr__(self) -> str:
        return f"DomainError({self.code!s}, field={self.field!r}, message={self.message!r})"


class DomainErrors(Exception):
    """Several field errors found together, so the client can show all of them at once."""

    def __init__(self, errors: list[DomainError]):
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
