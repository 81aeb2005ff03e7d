from enum import StrEnum


class ComplaintErrorCode(StrEnum):
    """Includes every CaseErrorCode and MediaErrorCode value: complaints pass their refusals through."""

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
    # media.images.MediaErrorCode, for one photo (field photos.N):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    ALREADY_DONE = "already_done"
    RATE_LIMITED = "rate_limited"
    UNKNOWN_ACTION = "unknown_action"
