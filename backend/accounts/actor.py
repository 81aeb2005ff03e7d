"""Who is asking: the signed-in user and their roles, passed to every service. The roles (memberships) are read
from the database the first time a check needs them, once per request."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from backend import sql
from backend.accounts.models import Role, User


@dataclass(frozen=True)
class _Roles:
    admin_region_ids: frozenset[int]
    agency_roles: dict[int, str]  # agency id -> agency_staff or agency_supervisor
    staff_region_ids: frozenset[int]


class Scope(StrEnum):
    """What an integration may be granted (backend.integrations)."""

    READ_CASES = "cases:read"  # the cases of its regions: never reporters' identities, NIKs or internal events
    READ_CONFIDENTIAL = "cases:read_confidential"  # confidential complaints' content too
    MANAGE_WEBHOOKS = "webhooks:manage"
    SUBMIT = "open311:submit"


@dataclass(frozen=True)
class Grant:
    """What an integration (an API key's client, backend.integrations) may do: its regions and scopes."""

    integration_id: int
    name: str
    home_region_id: int  # whose admins manage it; it submits (Open311) only there
    region_ids: frozenset[int]  # its own and those granted it: it reads these
    scopes: frozenset[str]


ROLES = sql.Statement("roles-of-user", "SELECT region_id, agency_id, role FROM accounts_membership WHERE user_id = %s")


class Actor:
    """A signed-in person (`user`), an integration calling with an API key (`grant`, no user), or nobody."""

    def __init__(self, user: User | None, grant: Grant | None = None):
        self.user = user
        self.grant = grant

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(None)

    @classmethod
    def for_user(cls, user: User | None) -> Actor:
        if user is None or not user.is_authenticated or not user.is_active:
            return cls.anonymous()
        return cls(user)

    @classmethod
    def for_integration(cls, grant: Grant) -> Actor:
        return cls(None, grant)

    def holds(self, scope: str, region_id: int | None = None) -> bool:
        """An integration holding `scope` (in `region_id`, when given). People hold no scopes."""
        grant = self.grant
        return grant is not None and scope in grant.scopes and (region_id is None or region_id in grant.region_ids)

    @cached_property
    def _roles(self) -> _Roles:
        if self.user is None:
            return _Roles(frozenset(), {}, frozenset())
        rows = ROLES.rows(self.user.pk)
        return _Roles(
            admin_region_ids=frozenset(r for r, _a, role in rows if role == Role.REGION_ADMIN),
            agency_roles={a: role for _r, a, role in rows if a is not None},
            staff_region_ids=frozenset(r for r, _a, _role in rows),
        )

    @property
    def is_superuser(self) -> bool:
        return self.user is not None and self.user.is_superuser

    @property
    def admin_region_ids(self) -> frozenset[int]:
        return self._roles.admin_region_ids

    @property
    def agency_roles(self) -> dict[int, str]:
        return self._roles.agency_roles

    @property
    def staff_region_ids(self) -> frozenset[int]:
        return self._roles.staff_region_ids

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    def administers(self, region_id: int | None) -> bool:
        return self.is_superuser or (region_id is not None and region_id in self.admin_region_ids)

    def works_in_region(self, region_id: int) -> bool:
        """Staff of any role in the region (or a superuser): may see the region's internals."""
        return self.is_superuser or region_id in self.staff_region_ids

    def works_at(self, agency_id: int) -> bool:
        return self.is_superuser or agency_id in self.agency_roles

    def supervises(self, agency_id: int) -> bool:
        return self.is_superuser or self.agency_roles.get(agency_id) == Role.AGENCY_SUPERVISOR
