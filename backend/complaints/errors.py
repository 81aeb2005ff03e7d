from enum import StrEnum

from backend.cases.errors import CaseErrorCode
from backend.errors import error_codes
from media.errors import MediaErrorCode


class _ComplaintCode(StrEnum):
    """What went wrong with a complaint: its own codes, the case core's (its moves) and one photo's (`photos.N`)."""

    NOT_AUTHENTICATED = "not_authenticated"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_CATEGORY = "unknown_category"
    CATEGORY_IS_A_GROUP = "category_is_a_group"
    OUTSIDE_REGION = "outside_region"
    INVALID_LOCATION = "invalid_location"
    TOO_MANY_PHOTOS = "too_many_photos"
    RATE_LIMITED = "rate_limited"


ComplaintErrorCode = error_codes("ComplaintErrorCode", _ComplaintCode, CaseErrorCode, MediaErrorCode)
