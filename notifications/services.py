"""Writes of the notification settings a user controls."""

from __future__ import annotations

from datetime import time

from django.utils.translation import gettext as _

from backend.accounts.models import User
from backend.errors import DomainError
from notifications.errors import NotificationErrorCode
from notifications.events import NotificationKind
from notifications.models import NotificationPreference


def preferences_of(user: User) -> NotificationPreference:
    """The user's settings; the defaults (everything pushed, no quiet hours) when they never changed them."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def set_preferences(
    *, user: User, muted_kinds: list[str], quiet_start: time | None, quiet_end: time | None
) -> NotificationPreference:
    """Replace the user's push settings: the kinds never pushed, and quiet hours (both ends, or neither) during
    which only urgent pushes arrive; the others wait for the end of the quiet hours."""
    unknown = sorted(set(muted_kinds) - set(NotificationKind.values))
    if unknown:
        raise DomainError(
            NotificationErrorCode.INVALID,
            _("Unknown kind of notification: %(kinds)s.") % {"kinds": ", ".join(unknown)},
            field="mutedKinds",
        )
    if (quiet_start is None) != (quiet_end is None):
        raise DomainError(
            NotificationErrorCode.INVALID,
            _("Give both the start and the end of the quiet hours, or neither."),
            field="quietHoursEnd" if quiet_end is None else "quietHoursStart",
        )
    if quiet_start is not None and quiet_start == quiet_end:
        raise DomainError(
            NotificationErrorCode.INVALID,
            _("Quiet hours must end at another time than they start."),
            field="quietHoursEnd",
        )
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user,
        defaults={
            "muted_events": sorted(set(muted_kinds)),
            "quiet_start": quiet_start.replace(second=0, microsecond=0, tzinfo=None) if quiet_start else None,
            "quiet_end": quiet_end.replace(second=0, microsecond=0, tzinfo=None) if quiet_end else None,
        },
    )
    return preference
