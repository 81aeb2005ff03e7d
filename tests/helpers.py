from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from backend.accounts.actor import Actor
from backend.accounts.models import User
from backend.cases.models import Case
from backend.cases.services import transition
from backend.regions.models import Area

SUBMIT = """
mutation($input: SubmitComplaintInput!) {
  submitComplaint(input: $input) {
    created
    case { id trackingCode status version agency { code } area { code } dueAt reporterName
           complaint { category { code } description anonymous confidential extra } }
    possibleDuplicates { distanceM case { trackingCode } }
    errors { code field message }
  }
}
"""


def centre(area: Area) -> tuple[float, float]:
    from shapely.geometry import shape

    point = shape(area.boundary).representative_point()
    return point.y, point.x


def complaint_input(category, lat, lon, /, **extra):
    values = {
        "region": "musi-banyuasin",
        "category": str(category.pk),
        "description": "Jalan berlubang besar di depan pasar, membahayakan pengendara motor.",
        "lat": lat,
        "lon": lon,
    }
    if category.code == "jalan-rusak":
        values["extra"] = {"severity": "berat"}
    values.update(extra)
    return values


def staff_user(username) -> User:
    """A demo staff account by username (`pupr.staf`, `admin.muba`, …)."""
    return User.objects.get(username=username)


def staff_actor(username) -> Actor:
    """The same account as an Actor, for calling services directly."""
    return Actor.for_user(staff_user(username))


def admin_site(username) -> Client:
    """A browser signed in to the Django admin site as a demo account."""
    client = Client()
    client.force_login(staff_user(username))
    return client


def resolve_case(case_pk, username="pupr.staf"):
    staff = staff_actor(username)
    case = Case.objects.get(pk=case_pk)
    for action in ("accept", "start", "resolve"):
        transition(case, action, actor=staff)
    return case


def post_multipart(gql, query: str, variables: dict, files: dict[str, tuple[str, bytes, str]]):
    """A GraphQL multipart request (what Apollo upload clients send). Files are keyed by their variable path, e.g.
    {"variables.input.photos.0": ("a.jpg", data, "image/jpeg")}."""
    data = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps({str(i): [path] for i, path in enumerate(files)}),
    }
    for i, (name, content, content_type) in enumerate(files.values()):
        data[str(i)] = SimpleUploadedFile(name, content, content_type=content_type)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {gql.token}"} if gql.token else {}
    with TestCase.captureOnCommitCallbacks(execute=True):
        return gql.http.post("/graphql", data, **headers)
