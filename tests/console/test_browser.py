"""The console in a real Chromium (Debian's, driven by Playwright) against the production topology: gunicorn with
threaded workers and a separate Celery worker, on PostgreSQL and Redis. A staff member signs in, filters the queue,
opens a case from the map, replies and transfers it; the receiving agency accepts; a supervisor exports CSV; staff
of another region get nothing by URL. No request leaves the server (tiles are off by default), no script error
and no Content-Security-Policy violation occurs. Screenshots of the main pages go to var/screenshots/ (not
committed) for a reviewer."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

import pytest
import redis
from django.db import connections
from graphql_relay import to_global_id

from backend.accounts import services as accounts
from backend.accounts.models import User
from backend.cases import services as cases
from backend.cases.models import Case
from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from backend.regions.models import Agency
from notifications.delivery import group_name
from tests.helpers import staff_actor
from tests.live import ROOT, celery_worker, daphne, free_port, gunicorn, needs_services, wait_for
from tests.permits.conftest import NIK, Permits

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def topology(tmp_path, local_media):
    """A Celery worker, daphne for the WebSocket and gunicorn for HTTP, as docs/serving.md runs them, with the test's
    uploads folder; the pages open the socket on daphne's port (a proxy would route the upgrade on one host)."""
    worker = celery_worker(tmp_path / "worker.log", MEDIA_ROOT=local_media)
    sockets = daphne(free_port(), tmp_path / "daphne.log", CELERY_TASK_ALWAYS_EAGER="false", MEDIA_ROOT=local_media)
    server = gunicorn(
        free_port(),
        tmp_path / "gunicorn.log",
        CONSOLE_WEBSOCKET_URL=f"ws://{sockets.host}/graphql",
        MEDIA_ROOT=local_media,
    )
    server.sockets = sockets
    yield server
    server.stop()
    sockets.stop()
    worker.stop()


def listening(group: str) -> None:
    """Wait until a subscription has joined its channel-layer group (the protocol has no 'subscribed' message)."""
    from django.conf import settings

    client = redis.from_url(settings.REDIS_URL)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    try:
        wait_for(lambda: client.zcard(f"{prefix}:group:{group}"), 10, f"a subscriber of {group}")
    finally:
        client.close()


def outside_the_loop(function, *args, **kwargs):
    """Run synchronous Django code while Playwright's sync API holds this thread's event loop: in a thread of its own,
    which gives its database connection back when done."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


class Follower(threading.Thread):
    """A resident's app following their case with gql over graphql-transport-ws, in a thread of its own."""

    def __init__(self, host: str, token: str, case: Case):
        super().__init__(daemon=True)
        self.host, self.token, self.case_id = host, token, to_global_id("Case", case.pk)
        self.events: list[str] = []
        self.loop = self.task = None

    def run(self):
        asyncio.run(self._follow())

    async def _follow(self):
        from gql import Client
        from gql import gql as parse
        from gql.transport.websockets import WebsocketsTransport

        self.loop, self.task = asyncio.get_running_loop(), asyncio.current_task()
        transport = WebsocketsTransport(
            url=f"ws://{self.host}/graphql",
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            init_payload={"authorization": f"Bearer {self.token}"},
        )
        query = parse("subscription($c: ID) { caseUpdated(id: $c) { eventType case { status } } }")
        with suppress(asyncio.CancelledError):
            async with Client(transport=transport) as session:
                async for result in session.subscribe(query, variable_values={"c": self.case_id}):
                    self.events.append(result["caseUpdated"]["eventType"])

    def stop(self):
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.join(10)


class Browser:
    """One Chromium page that may talk to the server only, and remembers every script error and CSP report."""

    def __init__(self, playwright, host: str):
        self.host = host
        self.browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        self.context = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        self.page = self.context.new_page()
        self.outside, self.errors = [], []
        self.page.route("**/*", self._only_the_server)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

    def _only_the_server(self, route):
        if route.request.url.startswith(f"http://{self.host}/"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def sign_in(self, username: str):
        page = self.page
        page.goto(self.url("/console/"))
        page.get_by_label("Nama pengguna atau e-mail").fill(username)
        page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.get_by_role("heading", name="Antrean").wait_for()

    def sign_out(self):
        self.page.get_by_role("button", name="Keluar").click()
        self.page.get_by_role("button", name="Masuk").wait_for()

    def shot(self, name: str):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self):
        self.browser.close()


@needs_services
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.django_db(transaction=True)
def test_staff_work_cases_in_the_console(demo, submit, category, places, topology, settings, gql, resident):
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # one the servers know
    for user in User.objects.filter(
        username__in=["pupr.staf", "dishub.staf", "pupr.kabid", "pupr.parepare", "ptsp.staf"]
    ):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    road_category = category("jalan-rusak")
    road = submit(road_category, *places["lais"], anonymous=True)["case"]["trackingCode"]
    other = submit(road_category, *places["balai_agung"])["case"]["trackingCode"]
    case = Case.objects.get(tracking_code=road)
    permit = Permits(gql).filed(resident)["case"]["trackingCode"]
    dpupr, kabid = Agency.objects.get(region=demo["muba"], code="dpupr").pk, staff_actor("pupr.kabid")
    ptsp, staf = User.objects.get(username="ptsp.staf"), User.objects.get(username="pupr.staf")
    follower = Follower(topology.sockets.host, gql.sign_in_as(resident), case)  # the reporter's app, following
    follower.start()
    listening(group_name("case", case.pk))
    with sync_playwright() as playwright:
        chrome = Browser(playwright, topology.host)
        page = chrome.page
        try:
            chrome.sign_in("pupr.staf")
            expect(page.locator("table.queue tbody tr")).to_have_count(2)
            # The queue follows the agency live: a complaint arriving now is announced without a reload.
            expect(page.locator("#live")).to_have_attribute("data-live", "live")
            listening(group_name("agency", dpupr))
            late = outside_the_loop(submit, road_category, *places["lais"])["case"]["trackingCode"]
            expect(page.locator("#live [data-news]")).to_contain_text(late)
            chrome.shot("queue")
            page.get_by_label("Kode lacak atau kata").fill(road)
            page.get_by_role("button", name="Saring").click()
            expect(page.locator("table.queue tbody tr")).to_have_count(1)

            page.get_by_role("link", name="Peta").click()
            page.locator("#queue-map[data-loaded='3']").wait_for()
            ours = page.locator(f".leaflet-marker-icon[title='{road}']")
            for _ in range(6):  # zoom into clusters until our case's own marker shows
                if ours.count():
                    break
                page.locator(".marker-cluster").first.click()
                page.wait_for_timeout(700)
            ours.click()
            chrome.shot("map")
            page.locator(".leaflet-popup a.case-link").click()
            expect(page.locator("h1")).to_contain_text(road)

            page.get_by_role("button", name="Terima", exact=True).click()
            expect(page.locator(".messages")).to_contain_text("Selesai.")
            page.get_by_label("Templat balasan").select_option(label="Survei lokasi")  # fills the box, to edit
            reply = page.get_by_label("Balas pelapor (publik)")
            expect(reply).to_have_value(re.compile("^Terima kasih atas laporan Anda"))
            reply.press("End")
            reply.type(" Tim kami datang besok pagi.")
            page.get_by_role("button", name="Kirim balasan").click()
            expect(page.locator(".timeline")).to_contain_text("Tim kami datang besok pagi.")
            chrome.shot("case")
            # The head adds a note meanwhile (a record: the page stays current), then assigns the case (a change: the
            # page says so before anyone acts on what it shows).
            expect(page.locator("#live")).to_have_attribute("data-live", "live")
            outside_the_loop(cases.add_note, actor=kabid, case_id=case.pk, text="Cek anggaran dulu.")
            outside_the_loop(cases.assign, actor=kabid, case_id=case.pk, assignee_id=staf.pk)
            expect(page.locator("#live [data-news]")).to_contain_text("Muat ulang")
            page.get_by_role("button", name="Muat ulang").click()
            expect(page.locator(".timeline")).to_contain_text("Cek anggaran dulu.")
            expect(page.locator(".timeline")).to_contain_text("Ditugaskan")
            page.get_by_label("Disposisi ke").select_option(label="Dinas Perhubungan")
            page.locator("form[action$='/transfer']").get_by_label("Alasan").fill("Rambu jalan, bukan jalan.")
            page.get_by_role("button", name="Disposisikan").click()
            expect(page.locator(".facts").first).to_contain_text("Dinas Perhubungan")
            chrome.sign_out()

            chrome.sign_in("dishub.staf")
            page.get_by_role("link", name="Disposisi masuk").click()
            page.get_by_role("link", name=road).click()
            page.get_by_role("button", name="Terima disposisi").click()
            expect(page.locator(".messages")).to_contain_text("Selesai.")
            chrome.sign_out()

            chrome.sign_in("pupr.kabid")
            page.get_by_role("link", name="Dasbor").click()
            expect(page.locator("svg.chart rect.received")).to_have_count(8)
            chrome.shot("dashboard")
            page.get_by_role("link", name="Antrean").click()
            with page.expect_download() as download:
                page.get_by_role("link", name="Ekspor CSV").click()
            exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
            assert (
                exported.splitlines()[0].startswith("Kode pelacakan,") and other in exported and road not in exported
            )  # transferred away
            chrome.sign_out()

            # A permit application: verification starts, and the whole NIK is shown once, on the timeline.
            chrome.sign_in("ptsp.staf")
            page.get_by_label("Jenis").select_option("permit")
            page.get_by_role("button", name="Saring").click()
            page.get_by_role("link", name=permit).click()
            page.get_by_role("button", name="Mulai verifikasi").click()
            expect(page.locator(".messages")).to_contain_text("Selesai.")
            expect(page.locator("img.document")).to_have_count(1)  # the KTP photo, shown in the page
            page.get_by_role("button", name="Tampilkan NIK lengkap").click()
            expect(page.locator(".revealed")).to_have_text(NIK)
            expect(page.locator(".timeline")).to_contain_text("NIK lengkap dilihat")
            chrome.shot("permit")
            # Signed out everywhere from the app: the open page's live updates stop and say why.
            outside_the_loop(accounts.revoke_all_sessions, user=ptsp)
            expect(page.locator("#live")).to_have_attribute("data-live", "ended")
            page.goto(chrome.url("/console/"))
            page.get_by_role("button", name="Masuk").wait_for()

            assert chrome.errors == []  # no script error, no CSP violation (the 404 below logs one of its own)
            chrome.sign_in("pupr.parepare")
            answer = page.goto(chrome.url(f"/console/kasus/{case.pk}"))
            assert answer.status == 404
        finally:
            chrome.close()
            follower.stop()
    case.refresh_from_db()
    assert case.agency.code == "dishub" and case.transfer_to_id is None
    assert case.events.filter(type="replied").count() == 1
    assert chrome.outside == []
    # The reporter's subscription saw the public events as they happened, and nothing internal.
    public = list(case.events.filter(visibility="public").order_by("seq").values_list("type", flat=True))
    assert "replied" in follower.events and "accepted" in follower.events
    assert [event for event in follower.events if event in public] == follower.events
    assert "note_added" not in follower.events
