from enum import StrEnum


class NotificationErrorCode(StrEnum):
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID = "invalid"
