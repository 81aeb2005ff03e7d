"""The console's live updates and its browser session: signing in starts a sign-in session of the browser's own,
whose short access tokens the pages use on the API's WebSocket (the socket itself: tests/console/test_browser.py);
signing out, signing out everywhere from an app and changing the password end it like any session."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from backend.accounts import services as accounts
from backend.accounts.models import AuthSession
from backend.accounts.tokens import authenticate_access_token
from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from backend.regions.models import Agency
from tests.console.test_pages import browser, case_url
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db

LIVE = (
    "/console/langsung"  # console:live-token; not reversed at import (the URLconf would load before the test settings)
)


def signed_in(username: str = "pupr.staf", **extra):
    client = browser(**extra)
    answer = client.post(reverse("console:sign-in"), {"login": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 302
    return client


def browser_session(client) -> AuthSession:
    return AuthSession.objects.get(pk=client.session["console_auth_session"])


def test_a_page_gets_a_short_token_of_the_browsers_session(demo):
    assert reverse("console:live-token") == LIVE
    client = signed_in()
    answer = client.post(LIVE)
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    session = authenticate_access_token(answer.json()["token"])
    assert session == browser_session(client) and session.user.username == "pupr.staf"
    assert client.get(LIVE).status_code == 405
    assert browser().post(LIVE).status_code == 302  # not signed in: to the sign-in page


def test_the_token_needs_the_csrf_token(demo):
    client = signed_in()
    client.handler.enforce_csrf_checks = True
    assert client.post(LIVE).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', client.get("/console/").content.decode())
    assert client.post(LIVE, HTTP_X_CSRFTOKEN=token.group(1)).status_code == 200


def test_signing_out_ends_the_browsers_session(demo):
    client = signed_in()
    session = browser_session(client)
    client.post(reverse("console:sign-out"))
    session.refresh_from_db()
    assert session.revoked_at is not None and session.revoke_reason == "signed_out"


def test_signing_out_everywhere_from_an_app_signs_the_browser_out(demo):
    client = signed_in()
    accounts.revoke_all_sessions(user=staff_user("pupr.staf"))
    answer = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302 and answer.url.startswith(reverse("console:sign-in"))
    assert "_auth_user_id" not in client.session
    assert "ended from another device" in client.get(answer.url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert client.post(LIVE).status_code == 302


def test_a_form_sent_after_the_session_ended_leads_back_to_its_page(demo, road_complaint):
    client = signed_in()
    accounts.revoke_all_sessions(user=staff_user("pupr.staf"))
    page = case_url(road_complaint)
    sent = client.post(
        case_url(road_complaint, "note"), {"version": 2, "text": "x"}, HTTP_REFERER=f"http://testserver{page}"
    )
    assert sent.status_code == 302 and sent.url == f"{reverse('console:sign-in')}?next={page}"
    assert not road_complaint.events.filter(type="note_added").exists()
    again = signed_in()
    assert again.get(case_url(road_complaint, "note")).url == page  # the action's address opened: the case


def test_a_password_change_here_keeps_this_browser_and_its_live_updates(demo):
    client = signed_in()
    before = browser_session(client)
    changed = client.post(
        reverse("console:password"), {"current_password": DEMO_PASSWORD, "new_password": "Kuat-sekali-2027"}
    )
    assert changed.status_code == 302
    before.refresh_from_db()
    assert before.revoked_at is not None  # every session ended, as the service says …
    assert client.get("/console/").status_code == 200  # … and this browser goes on with a new one
    assert authenticate_access_token(client.post(LIVE).json()["token"]) == browser_session(client)


def test_the_expired_token_request_is_refused(demo, settings):
    client = signed_in()
    AuthSession.objects.filter(pk=browser_session(client).pk).update(expires_at="2000-01-01T00:00:00Z")
    assert client.get("/console/").status_code == 302  # a session run out signs the browser out, too


def test_what_a_page_follows(demo, road_complaint):
    def followed(client, url):
        found = re.search(r'data-subscriptions="([^"]+)"', client.get(url).content.decode())
        return json.loads(found.group(1).replace("&quot;", '"')) if found else None

    staff = followed(browser("pupr.staf"), "/console/")
    assert [s["query"].split("(")[1] for s in staff] == ["$a: ID) { agencyQueue"]  # one agency, one subscription
    admin = followed(browser("admin.muba"), "/console/")
    assert len(admin) == Agency.objects.filter(region=demo["muba"]).count()  # a region admin: every agency
    case = followed(browser("pupr.staf"), case_url(road_complaint))
    assert "caseUpdated" in case[0]["query"]
    page = browser("pupr.staf").get(case_url(road_complaint)).content.decode()
    assert f'data-version="{road_complaint.version}"' in page


def test_the_policy_admits_a_websocket_host_of_its_own(demo, settings):
    settings.CONSOLE_WEBSOCKET_URL = "wss://ws.simpul.example/graphql"
    policy = browser("pupr.staf").get("/console/")["Content-Security-Policy"]
    assert "connect-src 'self' wss://ws.simpul.example" in policy
    assert 'data-url="wss://ws.simpul.example/graphql"' in browser("pupr.staf").get("/console/").content.decode()
