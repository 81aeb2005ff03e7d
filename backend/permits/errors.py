from enum import StrEnum

from backend.cases.errors import CaseErrorCode
from backend.errors import error_codes
from media.errors import MediaErrorCode


class _PermitCode(StrEnum):
    """What went wrong with a permit: its own codes, the case core's (its moves) and one uploaded file's."""

    NOT_AUTHENTICATED = "not_authenticated"
    UNKNOWN_REGION = "unknown_region"
    UNKNOWN_PERMIT_TYPE = "unknown_permit_type"
    FORM_INVALID = "form_invalid"
    DOCUMENT_MISSING = "document_missing"
    NIK_INVALID = "nik_invalid"
    FEE_INVALID = "fee_invalid"
    PAYMENT_MISMATCH = "payment_mismatch"


PermitErrorCode = error_codes("PermitErrorCode", _PermitCode, CaseErrorCode, MediaErrorCode)
