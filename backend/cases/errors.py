from enum import StrEnum


class CaseErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    INVALID = "invalid"
    ALREADY_DONE = "already_done"


class RejectReason(StrEnum):
    """Why an agency refuses a case (shown to the resident with the note)."""

    NOT_OUR_MATTER = "not_our_matter"  # bukan kewenangan pemerintah daerah / OPD mana pun
    INSUFFICIENT_INFORMATION = "insufficient_information"
    NOT_A_PROBLEM = "not_a_problem"
    ABUSIVE = "abusive"  # spam, hoaks, ujaran kebencian
    OTHER = "other"
