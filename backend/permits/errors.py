from enum import StrEnum


class PermitErrorCode(StrEnum):
    """Includes every CaseErrorCode and MediaErrorCode value: permit services pass those refusals through."""

    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_PERMIT_TYPE = "unknown_permit_type"
    INVALID = "invalid"
    FORM_INVALID = "form_invalid"
    DOCUMENT_MISSING = "document_missing"
    NIK_INVALID = "nik_invalid"
    FEE_INVALID = "fee_invalid"
    PAYMENT_MISMATCH = "payment_mismatch"
    # media.images.MediaErrorCode, for one uploaded file:
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
    # backend.cases.errors.CaseErrorCode:
    INVALID_STATE = "invalid_state"
    CONFLICT = "conflict"
    ALREADY_DONE = "already_done"
    UNKNOWN_ACTION = "unknown_action"
