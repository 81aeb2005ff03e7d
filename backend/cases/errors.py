from enum import StrEnum


class CaseErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    INVALID = "invalid"
    ALREADY_DONE = "already_done"
