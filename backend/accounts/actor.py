"""Who is asking: the signed-in user and their roles, loaded once per request and passed to every service."""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.accounts.models import Membership, Role, User


@dataclass(frozen=True)
class Actor:
    user: User | None
    is_superuser: bool = False
    admin_region_ids: frozenset[int] = frozenset()
    # agency id -> role (agency_staff or agency_supervisor)
    agency_roles: dict[int, str] = field(default_factory=dict)
    staff_region_ids: frozenset[int] = frozenset()

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user=None)

    @classmethod
    def for_user(cls, user: User | None) -> Actor:
        """The actor for a user: one query for the memberships."""
        if user is None or not user.is_authenticated or not user.is_active:
            return cls.anonymous()
        rows = list(Membership.objects.filter(user=user).values_list("region_id", "agency_id", "role"))
        return cls(
            user=user,
            is_superuser=user.is_superuser,
            admin_region_ids=frozenset(r for r, _a, role in rows if role == Role.REGION_ADMIN),
            agency_roles={a: role for _r, a, role in rows if a is not None},
            staff_region_ids=frozenset(r for r, _a, _role in rows),
        )

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def is_staff_member(self) -> bool:
        return bool(self.staff_region_ids)

    def administers(self, region_id: int | None) -> bool:
        return self.is_superuser or (region_id is not None and region_id in self.admin_region_ids)

    def works_in_region(self, region_id: int) -> bool:
        """Staff of any role in the region (or a superuser): may see the region's internals."""
        return self.is_superuser or region_id in self.staff_region_ids

    def works_at(self, agency_id: int) -> bool:
        return self.is_superuser or agency_id in self.agency_roles

    def supervises(self, agency_id: int) -> bool:
        return self.is_superuser or self.agency_roles.get(agency_id) == Role.AGENCY_SUPERVISOR
