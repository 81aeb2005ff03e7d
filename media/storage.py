"""Storing renditions and handing out URLs that expire.

Everything goes through Django's default storage, so the local folder (embedded default) and S3 (django-storages)
are one code path. S3 URLs are presigned by django-storages; local files are served by `media.views.serve` behind
a signed, timestamped token.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

if TYPE_CHECKING:
    from media.images import ProcessedImage

SIGNING_SALT = "simpul.media"


def store_photo(processed: ProcessedImage, *, region_id: int) -> dict[str, str]:
    """Save the renditions under a fresh random prefix; returns their keys (full, large, small)."""
    from media.images import JPEG, PNG, WEBP  # with Pillow: loaded where photos are handled (media.services)

    extensions = {JPEG: "jpg", PNG: "png", WEBP: "webp"}
    prefix = f"cases/{region_id}/{uuid.uuid4().hex}"
    large_side, small_side = sorted(processed.thumbnails, reverse=True)[:2]
    renditions = {
        "storage_key": processed.full,
        "large_key": processed.thumbnails[large_side],
        "small_key": processed.thumbnails[small_side],
    }
    keys = {}
    try:
        for name, rendition in renditions.items():
            wanted = f"{prefix}/{name.removesuffix('_key')}.{extensions[rendition.content_type]}"
            keys[name] = default_storage.save(wanted, ContentFile(rendition.data))
    except Exception:
        delete_files(keys.values())
        raise
    return keys


def delete_files(keys) -> None:
    for key in keys:
        if key:
            default_storage.delete(key)


def uses_s3() -> bool:
    return bool(settings.S3_BUCKET)


def url_for(key: str, *, download_as: str | None = None) -> str:
    """An address the client may fetch for a while (settings.MEDIA_URL_SECONDS), then no longer. With `download_as`
    (documents: what people uploaded, PDFs that may carry scripts) the file comes as a download under that name
    (`Content-Disposition: attachment`), never shown by the browser as a page of this site."""
    if uses_s3():
        if download_as is None:
            return default_storage.url(key)
        return default_storage.url(key, parameters={"ResponseContentDisposition": attachment(download_as)})
    payload = key if download_as is None else [key, download_as]
    token = signing.dumps(payload, salt=SIGNING_SALT, compress=True)
    return reverse("media-file", kwargs={"token": token})


def attachment(filename: str) -> str:
    """A Content-Disposition header value for a download named `filename` (RFC 6266, any characters)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name or 'document'}\"; filename*=UTF-8''{quote(filename, safe='')}"


def key_from_token(token: str) -> tuple[str, str | None]:
    """The storage key a local URL token names and the download name, if it is one; signing.BadSignature for a token
    that is not ours or has expired."""
    payload = signing.loads(token, salt=SIGNING_SALT, max_age=settings.MEDIA_URL_SECONDS)
    if isinstance(payload, list):
        return payload[0], payload[1]
    return payload, None
