from enum import StrEnum


class RegionErrorCode(StrEnum):
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    OUTSIDE_REGION = "outside_region"
