from enum import StrEnum


class MediaErrorCode(StrEnum):
    """Why one uploaded file was refused (media.images, media.documents)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    UNSUPPORTED_TYPE = "unsupported_type"
    CORRUPT = "corrupt"
