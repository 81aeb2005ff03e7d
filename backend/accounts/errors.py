from enum import StrEnum


class AuthErrorCode(StrEnum):
    INVALID_PHONE = "invalid_phone"
    PHONE_NOT_ALLOWED = "phone_not_allowed"
    RATE_LIMITED = "rate_limited"
    SMS_UNAVAILABLE = "sms_unavailable"
    INVALID_CODE = "invalid_code"
    CODE_EXPIRED = "code_expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INVALID_CREDENTIALS = "invalid_credentials"
    ACCOUNT_DISABLED = "account_disabled"
    INVALID_TOKEN = "invalid_token"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_REUSED = "token_reused"
    SESSION_REVOKED = "session_revoked"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_INPUT = "invalid_input"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


class DeviceErrorCode(StrEnum):
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_TOKEN = "invalid_token"
    NOT_FOUND = "not_found"
