"""The ceiling: hand-written Django views doing one query each, served beside the application by the benchmark server
(bench/complaints.py). Whatever the application adds on top of one query shows as the gap to these."""

from __future__ import annotations

import json

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from backend.urls import urlpatterns as application


@csrf_exempt
@require_POST
def insert(request):
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ceiling (body) VALUES (%s) RETURNING id", [json.dumps(body)])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id})


@require_GET
def case_status(request, code: str):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.status FROM cases_case c JOIN regions_region r ON r.id = c.region_id "
            "WHERE r.code = %s AND c.tracking_code = %s",
            ["16.06", code],
        )
        row = cursor.fetchone()
    return JsonResponse({"status": row[0] if row else None})


urlpatterns = [
    path("bench/ceiling/insert", insert),
    path("bench/ceiling/case/<str:code>", case_status),
    *application,
]
