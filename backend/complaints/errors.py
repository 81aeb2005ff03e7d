from enum import StrEnum


class ComplaintErrorCode(StrEnum):
    """Includes every CaseErrorCode value: complaint actions pass the Case core's refusals through."""

    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_IS_A_GROUP = "category_is_a_group"
    OUTSIDE_REGION = "outside_region"
    INVALID_LOCATION = "invalid_location"
    INVALID = "invalid"
    TOO_MANY_PHOTOS = "too_many_photos"
    INVALID_PHOTO = "invalid_photo"
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    ALREADY_DONE = "already_done"
    UNKNOWN_ACTION = "unknown_action"
