"""Serving local media (embedded default) behind signed, expiring URLs. With S3 the bucket serves presigned URLs.

Nothing is run as a page of this site: a sandboxing Content-Security-Policy and no type sniffing on every file, and
documents (permit files, reports, certificates) as downloads (media.storage.url_for's `download_as`)."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from media.storage import attachment, key_from_token


@require_GET
def serve(request, token: str):
    try:
        key, download_as = key_from_token(token)
    except signing.BadSignature:
        raise Http404("This link is not valid or has expired.") from None
    if not default_storage.exists(key):
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(key, "rb"), content_type=content_type)
    if download_as is not None:
        response["Content-Disposition"] = attachment(download_as)
    response["Cache-Control"] = f"private, max-age={settings.MEDIA_URL_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
