"""Liveness and readiness probes for load balancers and orchestrators."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backend.services_check import run_checks


@never_cache
@require_GET
def healthz(request):
    """The process is up and serving requests; touches no other service."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Every service a request needs answers: 200 when all do, 503 naming the ones that do not."""
    results = run_checks()
    ready = all(r.ok for r in results)
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": {r.name: r.as_dict() for r in results}},
        status=200 if ready else 503,
    )
