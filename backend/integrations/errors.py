from enum import StrEnum


class IntegrationErrorCode(StrEnum):
    """What went wrong in managing an integration, its keys or its webhooks."""

    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    UNSAFE_URL = "unsafe_url"
    INVALID_DOCUMENT = "invalid_document"
    INVALID_STATE = "invalid_state"
