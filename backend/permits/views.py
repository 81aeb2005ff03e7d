"""Public pages of permits: the verification page a certificate's QR code opens, and the payment gateway's
callback."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from backend.errors import DomainError
from backend.permits import office, selectors

logger = logging.getLogger("simpul.permits")


@require_GET
@never_cache
def verify_page(request, token: str):
    """Mobile-friendly, in Bahasa Indonesia (English with `?lang=en`): is the permit valid, expired or revoked."""
    language = "en" if request.GET.get("lang") == "en" else "id"
    result = selectors.verify(token)
    with translation.override(language):
        response = render(
            request,
            "permits/verify.html",
            {"result": result, "application": result.application, "language": language},
            status=404 if result.application is None else 200,
        )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


@csrf_exempt
@require_POST
def payment_callback(request):
    """The payment gateway reports a paid fee: JSON `{"reference", "amount"}`, signed with
    `X-Simpul-Signature: sha256=<hex HMAC-SHA256 of the body under PAYMENT_CALLBACK_SECRET>`."""
    secret = settings.PAYMENT_CALLBACK_SECRET
    if not secret:
        return JsonResponse({"error": "payment callbacks are not configured"}, status=404)
    body = request.body
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Simpul-Signature", "")):
        return JsonResponse({"error": "bad signature"}, status=401)
    try:
        data = json.loads(body)
        reference, amount = str(data["reference"]), data["amount"]
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": 'expected JSON {"reference": string, "amount": integer}'}, status=400)
    try:
        case = office.record_payment(actor=None, reference=reference, amount=amount)
    except DomainError as exc:
        status = {"not_found": 404, "already_done": 200}.get(str(exc.code), 409)
        return JsonResponse({"status": str(exc.code), "message": exc.message}, status=status)
    logger.info("Payment %s recorded for %s", reference, case.tracking_code)
    return HttpResponse(
        json.dumps({"status": "recorded", "trackingCode": case.tracking_code}), content_type="application/json"
    )
