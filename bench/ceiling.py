"""The ceiling: hand-written Django views doing one query each, served beside the application by the benchmark server
(bench/complaints.py). Whatever the application adds on top of one query shows as the gap to these."""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
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


QUEUE_SQL = """
SELECT c.id, c.tracking_code, c.status, c.due_at, c.priority, cat.code, ar.name, ag.code, u.full_name,
       (SELECT count(*) FROM media_attachment m WHERE m.case_id = c.id) AS photos,
       (SELECT e.type FROM cases_caseevent e WHERE e.case_id = c.id AND e.visibility = 'public'
        ORDER BY e.seq DESC LIMIT 1) AS latest_event,
       CASE WHEN c.status IN ('closed', 'rejected', 'duplicate', 'forwarded', 'resolved') THEN 'done'
            WHEN c.sla_paused_at IS NOT NULL THEN 'paused'
            WHEN c.due_at < %s THEN 'overdue'
            WHEN c.due_at < %s THEN 'due_soon'
            ELSE 'on_time' END AS sla
FROM cases_case c
JOIN complaints_complaint cp ON cp.case_id = c.id
JOIN complaints_complaintcategory cat ON cat.id = cp.category_id
LEFT JOIN regions_area ar ON ar.id = c.area_id
LEFT JOIN regions_agency ag ON ag.id = c.agency_id
LEFT JOIN accounts_user u ON u.id = c.assignee_id
WHERE c.agency_id = %s
ORDER BY c.due_at, c.id
LIMIT %s
"""


@require_GET
def queue_page(request, agency_id: int):
    now = timezone.now()
    size = min(int(request.GET.get("n", "50")), 100)
    with connection.cursor() as cursor:
        cursor.execute(QUEUE_SQL, [now, now + timedelta(hours=24), agency_id, size])
        rows = cursor.fetchall()
    keys = (
        "id",
        "trackingCode",
        "status",
        "dueAt",
        "priority",
        "category",
        "area",
        "agency",
        "assignee",
        "photos",
        "latestEvent",
        "sla",
    )
    return JsonResponse({"cases": [dict(zip(keys, row, strict=True)) for row in rows]})


urlpatterns = [
    path("bench/ceiling/queue/<int:agency_id>", queue_page),
    path("bench/ceiling/insert", insert),
    path("bench/ceiling/case/<str:code>", case_status),
    *application,
]
