from enum import StrEnum


class NotificationErrorCode(StrEnum):
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID = "invalid"


class ReplayErrorCode(StrEnum):
    """Why a subscription cannot replay what its subscriber missed (`after`, `lastNotificationId`)."""

    INVALID = "invalid"  # not a notification id
    REPLAY_UNAVAILABLE = "replay_unavailable"  # unknown, too old, or too much missed: reload, subscribe afresh
