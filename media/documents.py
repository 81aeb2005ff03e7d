"""Documents (permit requirements, review reports): PDFs kept as uploaded once their bytes prove them PDFs, and
JPEG/PNG/WebP scans re-encoded by the photo pipeline (metadata stripped). Types come from the bytes, never from the
client's file name or content type."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

from media.errors import MediaErrorCode
from media.images import JPEG, PDF, PNG, WEBP, MediaRejected, process_image, sniff_content_type

#: The names permit types use for accepted document types.
TYPE_NAMES = {"pdf": PDF, "jpeg": JPEG, "png": PNG, "webp": WEBP}
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", WEBP: "webp"}


class DocumentRejected(MediaRejected):
    """A document refused: the media codes, and `accepted` (type names) when its type is not one of them. A PDF cut
    off or broken is said to be a damaged document, not a damaged image."""

    def __init__(
        self, code: MediaErrorCode, limit: int | None = None, accepted: tuple[str, ...] = (), *, pdf: bool = False
    ):
        super().__init__(code, limit)
        self.accepted = accepted
        self.pdf = pdf

    @property
    def message(self) -> str:
        if self.pdf and self.code == MediaErrorCode.CORRUPT:
            return str(_("The PDF is damaged or incomplete. Save or scan it again."))
        if self.code == MediaErrorCode.UNSUPPORTED_TYPE and self.accepted:
            names = ", ".join(EXTENSIONS[TYPE_NAMES[name]].upper() for name in self.accepted)
            return str(_("This kind of file is not accepted here: send %(types)s.")) % {"types": names}
        return super().message


@dataclass(frozen=True)
class StoredDocument:
    storage_key: str
    content_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None


def store_document(upload, *, prefix: str, accepted: tuple[str, ...], max_bytes: int) -> StoredDocument:
    """Check and store one uploaded document under a fresh random key below `prefix`."""
    if upload.size > max_bytes:
        raise DocumentRejected(MediaErrorCode.TOO_LARGE, max_bytes)
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if not data:
        raise DocumentRejected(MediaErrorCode.EMPTY)
    if len(data) > max_bytes:
        raise DocumentRejected(MediaErrorCode.TOO_LARGE, max_bytes)
    content_type = sniff_content_type(data[:16])
    if content_type is None or content_type not in {TYPE_NAMES[name] for name in accepted}:
        raise DocumentRejected(MediaErrorCode.UNSUPPORTED_TYPE, accepted=accepted)
    digest = hashlib.sha256(data).hexdigest()
    width = height = None
    stored = data
    if content_type == PDF:
        if b"%%EOF" not in data[-1024:]:  # cut off in transfer, or not really a PDF
            raise DocumentRejected(MediaErrorCode.CORRUPT, pdf=True)
    else:
        try:
            processed = process_image(data, max_bytes=max_bytes, max_pixels=settings.MEDIA_MAX_PIXELS)
        except MediaRejected as refused:  # a scan that is a bomb, claims a size it is not, or is cut off
            raise DocumentRejected(refused.code, refused.limit) from None
        stored, content_type = processed.full.data, processed.full.content_type
        width, height = processed.width, processed.height
    key = store_bytes(stored, prefix=prefix, extension=EXTENSIONS[content_type])
    return StoredDocument(key, content_type, len(data), digest, width, height)


def store_bytes(data: bytes, *, prefix: str, extension: str) -> str:
    return default_storage.save(f"{prefix}/{uuid.uuid4().hex}.{extension}", ContentFile(data))
