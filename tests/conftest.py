"""Shared fixtures. Tests run against the database and Redis that DATABASE_URL / REDIS_URL name (SQLite and local
memory when unset); nothing of our own is mocked."""

from __future__ import annotations

import copy
import io
import json
import uuid

import pytest
from django.test import Client, TestCase
from django.utils import translation
from graphql_relay import to_global_id

from backend import breaker
from backend.accounts.models import User
from backend.cases.models import Case
from backend.celery import app as celery_app
from backend.complaints import config as complaint_config
from backend.complaints.models import ComplaintCategory
from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from backend.regions import area_index, calendar
from backend.regions.models import Area
from tests.helpers import SUBMIT, admin_site, centre, complaint_input, staff_actor


@pytest.fixture(autouse=True)
def _isolated(settings):
    """Fast password hashing, tasks run in-process, notifications handed on by the committing process (the relay's
    own tests turn the relay on), and a cache key prefix of its own for every test (so rate-limit counters never
    leak between tests, even on a shared Redis)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.OUTBOX_RELAY = False
    for service in (breaker.CACHE, breaker.CHANNEL_LAYER, breaker.BROKER):
        service.succeeded()  # a service one test made unreachable is back for the next
    # Each test's database is rolled back under the per-process caches, which production never does.
    area_index.forget_index()
    calendar.forget_days_off()
    complaint_config.forget()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Services called directly speak English in tests, so messages can be asserted on; requests still pick their
    language from Accept-Language (Bahasa Indonesia when absent), as in production."""
    with translation.override("en"):
        yield


@pytest.fixture
def demo(db):
    """The demo data of `manage.py seed_demo`: two regions, their areas, agencies, staff and a resident."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())
    from backend.regions.models import Region

    return {"muba": Region.objects.get(code="16.06"), "parepare": Region.objects.get(code="73.72")}


# What Apollo Client and urql send: the GraphQL-over-HTTP media type first (request errors are then 4xx).
ACCEPT = "application/graphql-response+json, application/json;q=0.9"


class GraphQLClient:
    """Posts GraphQL over HTTP to /graphql exactly as an app would."""

    def __init__(self):
        self.http = Client(REMOTE_ADDR="203.0.113.10", HTTP_ACCEPT=ACCEPT)
        self.token: str | None = None

    def post(self, query: str, variables: dict | None = None, *, token: str | None = None, **extra):
        headers = {}
        bearer = token if token is not None else self.token
        if bearer:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {bearer}"
        body = json.dumps({"query": query, "variables": variables or {}})
        # Tests run inside a transaction that never commits: run the on-commit work (tasks) as a commit would.
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.http.post("/graphql", body, content_type="application/json", **headers, **extra)

    def __call__(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        response = self.post(query, variables, **kwargs)
        payload = response.json()
        assert response.status_code == 200, payload
        assert "errors" not in payload, payload
        return payload["data"]

    def sign_in_as(self, user) -> str:
        """Start a session for a user directly (the OTP and password flows have tests of their own)."""
        from backend.accounts.services import ClientInfo, _start_session

        self.token = _start_session(user, ClientInfo()).access_token
        return self.token

    def sign_in(self, login: str, password: str = DEMO_PASSWORD) -> dict:
        data = self(
            "mutation($l: String!, $p: String!) { signIn(login: $l, password: $p) {"
            " accessToken refreshToken errors { code message } } }",
            {"l": login, "p": password},
        )["signIn"]
        assert data["errors"] == [], data
        self.token = data["accessToken"]
        return data


@pytest.fixture
def gql():
    return GraphQLClient()


# --- complaints: places in the demo regions, categories, residents, and filing through /graphql -------------------


@pytest.fixture
def places(demo):
    muba = demo["muba"]

    def at(code):
        return centre(Area.objects.get(region=muba, code=code))

    return {
        "lais": at("16.06.02"),
        "balai_agung": at("16.06.01.1002"),
        "parepare": centre(Area.objects.filter(region=demo["parepare"]).first()),
    }


@pytest.fixture
def category(demo):
    def get(code, region="muba"):
        return ComplaintCategory.objects.get(region=demo[region], code=code)

    return get


@pytest.fixture
def resident(demo):
    return User.objects.get(phone="+6281200000001")


@pytest.fixture
def other_resident(db):
    return User.objects.create(phone="+6281299999999", full_name="Sari")


@pytest.fixture
def muba_admin(demo):
    """Musi Banyuasin's region admin, as an Actor (services); `admin_site("admin.muba")` is the same in a browser."""
    return staff_actor("admin.muba")


@pytest.fixture
def muba_admin_site(demo):
    """Musi Banyuasin's region admin in a browser signed in to the Django admin site."""
    return admin_site("admin.muba")


@pytest.fixture
def road_complaint(submit, category, places):
    """The demo resident's complaint about a damaged road in Lais, filed through /graphql: a Case routed to DPUPR."""
    data = submit(category("jalan-rusak"), *places["lais"])
    assert data["errors"] == [] and data["case"]["agency"] == {"code": "dpupr"}, data
    return Case.objects.get(tracking_code=data["case"]["trackingCode"])


@pytest.fixture
def road_complaint_id(road_complaint):
    """`road_complaint`'s global (Relay) id, as clients send it."""
    return to_global_id("Case", road_complaint.pk)


@pytest.fixture
def submit(gql, resident):
    def run(category, lat, lon, /, *, as_user=None, **extra):
        gql.sign_in_as(as_user or resident)
        return gql(SUBMIT, {"input": complaint_input(category, lat, lon, **extra)})["submitComplaint"]

    return run


@pytest.fixture
def local_media(settings, tmp_path):
    """Uploads in a temporary folder on the local disk."""
    settings.S3_BUCKET = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture(scope="session")
def fcm_server():
    """A local server speaking FCM HTTP v1 and Google's OAuth token exchange (tests/fcm_server.py)."""
    from tests.fcm_server import FcmServer

    server = FcmServer().start()
    yield server
    server.stop()


@pytest.fixture
def fcm(fcm_server, settings):
    """Pushes go to the local FCM server, emptied for the test, through a firebase-admin app of the test's own (so
    every test starts without an access token)."""
    import firebase_admin

    from notifications.push import get_push_backend

    fcm_server.reset()
    settings.FIREBASE_CREDENTIALS = fcm_server.credentials()
    settings.FCM_ENDPOINT = fcm_server.url
    get_push_backend.cache_clear()
    yield fcm_server
    firebase_admin.delete_app(get_push_backend().app)
    get_push_backend.cache_clear()


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server over HTTP: an S3 no one here wrote, on the wire."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server, settings, monkeypatch):
    """Uploads in a fresh bucket of the S3 server, through django-storages with presigned URLs, as in production;
    a boto3 client of the bucket to look inside."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    bucket = f"simpul-test-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    client.bucket = bucket
    settings.S3_BUCKET = bucket
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_server,
                "region_name": "us-east-1",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    return client
