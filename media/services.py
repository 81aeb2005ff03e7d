"""Photos on cases: check every upload before anything is written, store renditions, record attachments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.conf import settings

from backend import sql
from backend.errors import DomainError
from media.models import Attachment, AttachmentKind
from media.storage import delete_files, store_photo

if TYPE_CHECKING:
    from media.images import ProcessedImage

# Photos recorded with the case they came with, in the statement that opens it (backend.cases.opening).
ATTACHMENT_INSERT = sql.Insert(
    Attachment,
    (
        "id", "case_id", "application_id", "requirement", "filename", "kind", "uploader_id", "position",
        "storage_key", "large_key", "small_key", "content_type", "size", "sha256", "width", "height", "captured_at",
        "gps_lat", "gps_lon", "created_at",
    ),
)  # fmt: skip


def check_photos(files: Sequence, *, field: str = "photos") -> tuple[list[ProcessedImage], list[DomainError]]:
    """Process every upload; returns the accepted images and one typed error (MediaErrorCode) per refused file
    (`photos.N`). How many files a caller accepts is its own rule."""
    processed, errors = [], []
    if not files:
        return processed, errors
    from media.images import MediaRejected

    for index, upload in enumerate(files):
        try:
            processed.append(read_photo(upload))
        except MediaRejected as refused:
            errors.append(DomainError(refused.code, refused.message, field=f"{field}.{index}"))
    return processed, errors


def read_photo(upload) -> ProcessedImage:
    """One uploaded photo checked and processed, or media.images.MediaRejected saying why not."""
    # Pillow (media.images) is loaded by the first photo a process receives, not by every process serving the API.
    from media.errors import MediaErrorCode
    from media.images import MediaRejected, process_image

    if upload.size > settings.MEDIA_MAX_BYTES:  # refuse before reading it into memory
        raise MediaRejected(MediaErrorCode.TOO_LARGE, settings.MEDIA_MAX_BYTES)
    upload.seek(0)
    data = upload.read(settings.MEDIA_MAX_BYTES + 1)
    return process_image(data, max_bytes=settings.MEDIA_MAX_BYTES, max_pixels=settings.MEDIA_MAX_PIXELS)


def _aware(moment, tz):
    """A camera without a recorded UTC offset wrote its local time: the region's, as good a guess as any."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=tz)


class StoredPhotos:
    """Renditions saved to storage ahead of the database writes; `discard()` removes them if it fails."""

    def __init__(self, photos: list[ProcessedImage], *, region_id: int):
        self.photos = photos
        self.keys: list[dict[str, str]] = []
        try:
            for photo in photos:
                self.keys.append(store_photo(photo, region_id=region_id))
        except Exception:
            self.discard()
            raise

    def discard(self) -> None:
        for keys in self.keys:
            delete_files(keys.values())
        self.keys = []

    def rows(self, case, *, uploader) -> list[Attachment]:
        """The attachments to record (unsaved), with the caller's other rows: it calls `discard()` if they fail."""
        return [
            Attachment(
                case=case,
                kind=AttachmentKind.PHOTO,
                uploader=uploader,
                position=position,
                content_type=photo.full.content_type,
                size=photo.size,
                sha256=photo.sha256,
                width=photo.width,
                height=photo.height,
                captured_at=_aware(photo.captured_at, case.region.tz),
                gps_lat=photo.latitude,
                gps_lon=photo.longitude,
                **keys,
            )
            for position, (photo, keys) in enumerate(zip(self.photos, self.keys, strict=True))
        ]
