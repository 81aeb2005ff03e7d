"""The console in a real Chromium (Debian's, driven by Playwright) against the production topology: gunicorn with
threaded workers and a separate Celery worker, on PostgreSQL and Redis. A staff member signs in, filters the queue,
opens a case from the map, replies and transfers it; the receiving agency accepts; a supervisor exports CSV; staff
of another region get nothing by URL. No request leaves the server (tiles are off by default), no script error
and no Content-Security-Policy violation occurs. Screenshots of the main pages go to var/screenshots/ (not
committed) for a reviewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backend.accounts.models import User
from backend.cases.models import Case
from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from tests.live import ROOT, celery_worker, free_port, gunicorn, needs_services

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def topology(tmp_path):
    worker = celery_worker(tmp_path / "worker.log")
    server = gunicorn(free_port(), tmp_path / "gunicorn.log")
    yield server
    server.stop()
    worker.stop()


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
def test_staff_work_a_case_in_the_console(demo, submit, category, places, topology, settings):
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # one the servers know
    for user in User.objects.filter(username__in=["pupr.staf", "dishub.staf", "pupr.kabid", "pupr.parepare"]):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])

    road = submit(category("jalan-rusak"), *places["lais"], anonymous=True)["case"]["trackingCode"]
    other = submit(category("jalan-rusak"), *places["balai_agung"])["case"]["trackingCode"]
    case = Case.objects.get(tracking_code=road)
    with sync_playwright() as playwright:
        chrome = Browser(playwright, topology.host)
        page = chrome.page
        try:
            chrome.sign_in("pupr.staf")
            expect(page.locator("table.queue tbody tr")).to_have_count(2)
            chrome.shot("queue")
            page.get_by_label("Kode lacak atau kata").fill(road)
            page.get_by_role("button", name="Saring").click()
            expect(page.locator("table.queue tbody tr")).to_have_count(1)

            page.get_by_role("link", name="Peta").click()
            page.locator("#queue-map[data-loaded='2']").wait_for()
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

            assert chrome.errors == []  # no script error, no CSP violation (the 404 below logs one of its own)
            chrome.sign_in("pupr.parepare")
            answer = page.goto(chrome.url(f"/console/kasus/{case.pk}"))
            assert answer.status == 404
        finally:
            chrome.close()
    case.refresh_from_db()
    assert case.agency.code == "dishub" and case.transfer_to_id is None
    assert case.events.filter(type="replied").count() == 1
    assert chrome.outside == []
