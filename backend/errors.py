"""The one exception type services raise for an expected refusal, and how a domain declares the codes it may raise.
`schema/` turns both into typed GraphQL errors."""

from __future__ import annotations

from enum import StrEnum


class DomainError(Exception):
    """An expected failure: bad input, a refused permission, a conflicting state.

    `code` is a member of a domain's error-code enum; `field` names the input field at fault (None: the whole
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


def error_codes(name: str, own: type[StrEnum], *passed_on: type[StrEnum]) -> type[StrEnum]:
    """The codes a domain's services may raise: its `own` and those of the domains whose refusals they pass on
    unchanged (a complaint passes on the case core's and the photo pipeline's). Built, not copied, so a code added to
    a part reaches every domain that carries it; `parts` lists what it was built from. A name must mean one value."""
    members: dict[str, str] = {}
    for part in (own, *passed_on):
        for member in part:
            if members.setdefault(member.name, member.value) != member.value:
                clash = f"{part.__name__}.{member.name} is {member.value!r}, elsewhere {members[member.name]!r}"
                raise TypeError(f"{name}: {clash}")
    codes = StrEnum(name, members, module=own.__module__)
    codes.parts = (own, *passed_on)
    codes.__doc__ = own.__doc__
    return codes
