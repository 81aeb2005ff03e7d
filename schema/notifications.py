"""Push notification settings in the API (`me { notificationPreferences }`, `setNotificationPreferences`)."""

from __future__ import annotations

import graphene
from django.utils.translation import gettext as _

from backend.errors import DomainError
from notifications import services
from notifications.errors import NotificationErrorCode
from notifications.events import NotificationKind
from schema.errors import DomainMutation, error_type

NotificationKindEnum = graphene.Enum.from_enum(NotificationKind, name="NotificationKind")
NotificationError = error_type("NotificationError", NotificationErrorCode, "notification settings")


class NotificationPreferences(graphene.ObjectType):
    muted_kinds = graphene.List(
        graphene.NonNull(NotificationKindEnum), required=True, description="Kinds never pushed to your phones."
    )
    quiet_hours_start = graphene.Time(description="From this time (the case's region's clock) only urgent pushes.")
    quiet_hours_end = graphene.Time(description="Held pushes arrive at this time.")

    @staticmethod
    def resolve_muted_kinds(preference, info):
        return [NotificationKind(kind) for kind in preference.muted_events]

    @staticmethod
    def resolve_quiet_hours_start(preference, info):
        return preference.quiet_start

    @staticmethod
    def resolve_quiet_hours_end(preference, info):
        return preference.quiet_end


class SetNotificationPreferences(DomainMutation):
    """Choose which kinds of notification reach your phones, and quiet hours (urgent ones, like a question from the
    agency or an overdue case, still arrive). Replaces the previous settings."""

    class Arguments:
        muted_kinds = graphene.List(graphene.NonNull(NotificationKindEnum), required=True)
        quiet_hours_start = graphene.Time()
        quiet_hours_end = graphene.Time()

    preferences = graphene.Field(NotificationPreferences)
    Error = NotificationError

    @classmethod
    def perform(cls, info, muted_kinds, quiet_hours_start=None, quiet_hours_end=None):
        if info.context.user is None:
            raise DomainError(NotificationErrorCode.NOT_AUTHENTICATED, _("Sign in first."))
        preference = services.set_preferences(
            user=info.context.user,
            muted_kinds=[getattr(kind, "value", kind) for kind in muted_kinds],
            quiet_start=quiet_hours_start,
            quiet_end=quiet_hours_end,
        )
        return cls(preferences=preference, errors=[])


class NotificationMutations(graphene.ObjectType):
    set_notification_preferences = SetNotificationPreferences.Field()
