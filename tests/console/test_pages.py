"""The staff console through Django's test client, as a browser's requests: sign-in with the API's lock-out, the
queue with its filters, badges and keyset pages, a case page and its actions with the version the page showed, the
CSV export, the map's points; and every refusal (not signed in, not staff, another region, stale, CSRF)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, TestCase
from django.urls import reverse

from backend.accounts.models import User
from backend.cases.models import Case
from backend.demo.management.commands.seed_demo import DEMO_PASSWORD
from backend.regions.models import Agency
from tests.helpers import staff_user

pytestmark = pytest.mark.django_db


def browser(username: str | None = None, **extra) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.20", **extra)
    if username:
        client.force_login(staff_user(username))
    return client


def post(client: Client, url: str, data: dict):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def case_url(case: Case, action: str | None = None) -> str:
    if action:
        return reverse("console:case-action", args=[case.pk, action])
    return reverse("console:case", args=[case.pk])


# --- signing in ----------------------------------------------------------------------------------------------------


def test_sign_in_and_out(demo):
    client = browser()
    page = client.get(reverse("console:queue"))
    assert page.status_code == 302 and page.url.startswith(reverse("console:sign-in"))
    signed_in = client.post(
        reverse("console:sign-in"), {"login": "PUPR.staf", "password": DEMO_PASSWORD, "next": "/console/"}
    )
    assert signed_in.status_code == 302 and signed_in.url == "/console/"
    assert client.get(reverse("console:queue")).status_code == 200
    assert client.post(reverse("console:sign-out")).status_code == 302
    assert client.get(reverse("console:queue")).status_code == 302


def test_a_wrong_password_and_the_lock_out(demo, settings):
    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 2
    client = browser()
    for _ in range(2):
        wrong = client.post(reverse("console:sign-in"), {"login": "pupr.staf", "password": "nope"})
        assert wrong.status_code == 400
    locked = client.post(reverse("console:sign-in"), {"login": "pupr.staf", "password": DEMO_PASSWORD})
    assert locked.status_code == 400 and "_auth_user_id" not in client.session  # the right password waits too


def test_sign_in_never_redirects_elsewhere(demo):
    client = browser()
    answer = client.post(
        reverse("console:sign-in"), {"login": "pupr.staf", "password": DEMO_PASSWORD, "next": "https://evil.example/"}
    )
    assert answer.url == reverse("console:queue")


def test_accounts_without_a_staff_role_are_refused(demo):
    User.objects.create_user(username="warga", password=DEMO_PASSWORD)
    client = browser()
    client.post(reverse("console:sign-in"), {"login": "warga", "password": DEMO_PASSWORD})
    assert client.get(reverse("console:queue")).status_code == 403
    assert client.get(reverse("console:map-points")).status_code == 403


def test_forms_need_their_csrf_token(demo, road_complaint):
    client = browser("pupr.staf", enforce_csrf_checks=True)
    answer = client.post(case_url(road_complaint, "accept"), {"version": road_complaint.version})
    assert answer.status_code == 403 and "Formulir sudah kedaluwarsa" in answer.content.decode()  # the console's
    road_complaint.refresh_from_db()
    assert road_complaint.status == "routed"


def test_pages_carry_a_policy_without_inline_scripts(demo, road_complaint):
    client = browser("pupr.staf")
    for url in (reverse("console:sign-in"), reverse("console:queue"), case_url(road_complaint), reverse("console:map")):
        page = client.get(url)
        policy = page["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        html = page.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url  # every script is a file of the site
        assert " style=" not in html and "<style" not in html and " on" + "click=" not in html


def test_change_password(demo, gql):
    gql.sign_in("pupr.staf")
    client = browser("pupr.staf")
    wrong = client.post(reverse("console:password"), {"current_password": "nope", "new_password": "Kuat-sekali-2027"})
    assert wrong.status_code == 400
    changed = client.post(
        reverse("console:password"), {"current_password": DEMO_PASSWORD, "new_password": "Kuat-sekali-2027"}
    )
    assert changed.status_code == 302
    assert client.get(reverse("console:queue")).status_code == 200  # this browser stays signed in
    ended = gql.post("{ me { username } }")
    assert ended.status_code == 401, ended.json()  # the app's session ended
    assert staff_user("pupr.staf").check_password("Kuat-sekali-2027")


# --- the queue -----------------------------------------------------------------------------------------------------


def test_the_queue_lists_the_agencys_cases_with_badges(demo, road_complaint, django_assert_max_num_queries):
    client = browser("pupr.staf")
    with django_assert_max_num_queries(14):
        page = client.get(reverse("console:queue"))
    html = page.content.decode()
    assert road_complaint.tracking_code in html
    assert page.context["totals"]["total"] == 1 and page.context["totals"]["unassigned"] == 1
    assert browser("dishub.staf").get(reverse("console:queue")).context["totals"]["total"] == 0


def test_queue_rows_escape_what_comes_from_data(demo, road_complaint):
    """The rows are written in Python for speed (console.queue_rows): names from data are escaped all the same."""
    Agency.objects.filter(pk=road_complaint.agency_id).update(short_name="<script>alert(1)</script>")
    User.objects.filter(username="pupr.staf").update(full_name='"><img src=x onerror=alert(1)>')
    road_complaint.assignee = staff_user("pupr.staf")
    road_complaint.save(update_fields=["assignee"])
    html = browser("pupr.staf").get(reverse("console:queue")).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_queue_filters(demo, road_complaint):
    client = browser("pupr.staf")
    assert (
        road_complaint.tracking_code
        in client.get(reverse("console:queue"), {"text": road_complaint.tracking_code}).content.decode()
    )
    assert client.get(reverse("console:queue"), {"sla": "overdue"}).context["rows"] == []
    accepted = client.get(reverse("console:queue"), {"status": "accepted", "order": "newest"})
    assert accepted.context["rows"] == []
    html = accepted.content.decode()
    assert '<option value="accepted" selected>' in html and '<option value="newest" selected>' in html
    bad = client.get(reverse("console:queue"), {"status": "nonsense", "order": "'; drop table"})
    assert bad.status_code == 200 and bad.context["form"].errors  # told, and the whole queue shown


def test_pages_never_repeat_a_case_that_arrived_between_them(demo, submit, category, places, monkeypatch):
    monkeypatch.setattr("console.views.PAGE_SIZE", 2)
    for _ in range(3):
        submit(category("jalan-rusak"), *places["lais"])
    client = browser("pupr.staf")
    first = client.get(reverse("console:queue"), {"order": "newest"})
    seen = [row.tracking_code for row in first.context["rows"]]
    submit(category("jalan-rusak"), *places["lais"])  # arrives on top meanwhile
    second = client.get(reverse("console:queue") + "?" + first.context["next_query"])
    more = [row.tracking_code for row in second.context["rows"]]
    assert len(seen) == 2 and len(more) == 1 and not set(seen) & set(more)
    broken = client.get(reverse("console:queue"), {"after": "not-a-cursor"})
    assert broken.status_code == 200 and len(broken.context["rows"]) == 2


def test_export_csv(demo, road_complaint):
    answer = browser("pupr.kabid").get(reverse("console:export"))
    assert answer["Content-Type"].startswith("text/csv")
    body = b"".join(answer.streaming_content).decode()
    assert road_complaint.tracking_code in body
    assert (
        road_complaint.tracking_code
        not in b"".join(browser("dishub.staf").get(reverse("console:export")).streaming_content).decode()
    )


def test_anonymous_reporters_stay_hidden_from_other_agencies(demo, submit, category, places):
    data = submit(category("jalan-rusak"), *places["lais"], anonymous=True)
    code = data["case"]["trackingCode"]
    admin_csv = b"".join(browser("admin.muba").get(reverse("console:export")).streaming_content).decode()
    line = next(line for line in admin_csv.splitlines() if code in line)
    resident = Case.objects.get(tracking_code=code).resident
    assert resident.full_name not in line


def test_map_points_stay_in_the_region(demo, road_complaint):
    points = browser("pupr.staf").get(reverse("console:map-points")).json()["points"]
    assert [p["code"] for p in points] == [road_complaint.tracking_code]
    assert points[0]["lat"] == road_complaint.lat and points[0]["url"] == case_url(road_complaint)
    assert browser("pupr.parepare").get(reverse("console:map-points")).json()["points"] == []


# --- a case --------------------------------------------------------------------------------------------------------


def test_the_case_page(demo, road_complaint, django_assert_max_num_queries):
    client = browser("pupr.staf")
    with django_assert_max_num_queries(25):
        page = client.get(case_url(road_complaint))
    html = page.content.decode()
    assert road_complaint.complaint.description in html
    assert "<dt>Tingkat kerusakan</dt><dd>berat</dd>" in html  # the question's title, not its key
    assert "data-lat" in html and page.context["broken"] is None
    assert 'data-icon="/static/vendor/leaflet/images/marker-icon.png"' in html  # by {% static %}: hashed in production
    assert {"accept", "reject", "transfer", "reply"} <= page.context["moves"]
    assert "accept_transfer" not in page.context["moves"]


def test_another_regions_staff_get_not_found(demo, road_complaint, settings):
    settings.DEBUG = False
    client = browser("pupr.parepare")
    assert "Tidak ditemukan" in client.get(case_url(road_complaint)).content.decode()  # the console's page, in Bahasa
    assert client.get(case_url(road_complaint)).status_code == 404
    assert post(client, case_url(road_complaint, "accept"), {"version": road_complaint.version}).status_code == 404
    road_complaint.refresh_from_db()
    assert road_complaint.status == "routed"


def test_work_a_case_and_a_stale_page_saves_nothing(demo, road_complaint):
    client = browser("pupr.staf")
    version = road_complaint.version
    assert post(client, case_url(road_complaint, "accept"), {"version": version}).status_code == 302
    road_complaint.refresh_from_db()
    assert road_complaint.status == "accepted"
    stale = post(client, case_url(road_complaint, "reply"), {"version": version, "text": "Segera kami tangani."})
    assert stale.status_code == 409  # the case as it is now, with what was typed kept in its box
    assert [m.level_tag for m in stale.context["messages"]][-1] == "warning"
    assert ">Segera kami tangani.</textarea>" in stale.content.decode()
    assert f'name="version" value="{road_complaint.version}"' in stale.content.decode()
    assert not road_complaint.events.filter(type="replied").exists()
    post(client, case_url(road_complaint, "reply"), {"version": road_complaint.version, "text": "Segera kami tangani."})
    assert road_complaint.events.filter(type="replied", payload__text="Segera kami tangani.").exists()


def test_refusals_are_shown_and_change_nothing(demo, road_complaint):
    client = browser("pupr.staf")
    empty = post(client, case_url(road_complaint, "reply"), {"version": road_complaint.version, "text": "  "})
    assert empty.status_code == 400 and [m.level_tag for m in empty.context["messages"]] == ["error"]
    assert post(client, case_url(road_complaint, "start"), {"version": road_complaint.version}).status_code == 400
    road_complaint.refresh_from_db()
    assert road_complaint.status == "routed"  # not accepted yet: refused by the workflow
    assert post(client, case_url(road_complaint, "accept"), {"version": "x"}).status_code == 409
    assert post(client, case_url(road_complaint, "explode"), {"version": road_complaint.version}).status_code == 404
    opened = browser("pupr.staf").get(case_url(road_complaint, "accept"))  # back, a bookmark: to the case
    assert opened.status_code == 302 and opened.url == case_url(road_complaint)


def test_transfer_and_the_receiving_agency_accepts(demo, road_complaint):
    dishub = Agency.objects.get(region=road_complaint.region, code="dishub")
    client = browser("pupr.staf")
    post(
        client,
        case_url(road_complaint, "transfer"),
        {"version": road_complaint.version, "agency": dishub.pk, "text": "Rambu lalu lintas."},
    )
    road_complaint.refresh_from_db()
    assert road_complaint.transfer_to_id == dishub.pk
    receiver = browser("dishub.staf")
    incoming = receiver.get(reverse("console:queue"), {"incoming": "on"})
    assert [row.tracking_code for row in incoming.context["rows"]] == [road_complaint.tracking_code]
    assert "accept_transfer" in receiver.get(case_url(road_complaint)).context["moves"]
    post(receiver, case_url(road_complaint, "accept_transfer"), {"version": road_complaint.version})
    road_complaint.refresh_from_db()
    assert road_complaint.agency_id == dishub.pk and road_complaint.transfer_to_id is None


def test_english_by_choice(demo):
    client = browser("pupr.staf")
    assert "Antrean" in client.get(reverse("console:queue")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/console/"})
    assert ">Queue<" in client.get(reverse("console:queue")).content.decode()


def test_reply_with_the_agencys_template(demo, road_complaint):
    from backend.work.models import ReplyTemplate

    template = ReplyTemplate.objects.get(agency__code="dpupr", title="Survei lokasi")
    other = ReplyTemplate.objects.create(
        region=road_complaint.region, agency=Agency.objects.get(region=road_complaint.region, code="dishub"),
        title="Bukan kami", text="Teks OPD lain.",
    )  # fmt: skip
    client = browser("pupr.staf")
    page = client.get(case_url(road_complaint))
    assert list(page.context["templates"]) == list(template.agency.reply_templates.filter(active=True))
    post(client, case_url(road_complaint, "accept"), {"version": road_complaint.version})
    road_complaint.refresh_from_db()
    foreign = post(client, case_url(road_complaint, "reply"), {"version": road_complaint.version, "template": other.pk})
    assert [m.level_tag for m in foreign.context["messages"]][-1] == "error"  # not this agency's
    post(client, case_url(road_complaint, "reply"), {"version": road_complaint.version, "template": template.pk})
    assert road_complaint.events.get(type="replied").payload["text"] == template.text  # sent without script


def test_the_dashboard_and_its_csv(demo, road_complaint, django_assert_max_num_queries):
    client = browser("pupr.kabid")
    page = client.get(reverse("console:dashboard"))
    assert page.status_code == 200 and page.context["total"].received == 1  # their agency's, by default
    assert len(page.context["chart"]) == 8 and page.context["chart"][-1]["received"] == 100  # the peak week
    assert '<rect class="received" x="71" y="5" width="4" height="100">' in page.content.decode()
    dpupr = Agency.objects.get(region=road_complaint.region, code="dpupr")
    whole = client.get(reverse("console:dashboard"), {"agency": "", "weeks": 4})
    assert whole.context["total"].received == 1 and len(whole.context["chart"]) == 4
    exported = client.get(reverse("console:dashboard"), {"agency": dpupr.pk, "weeks": 4, "format": "csv"})
    lines = b"".join(exported.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 5 and sum(int(line.split(",")[1]) for line in lines[1:]) == 1
    refused = client.get(reverse("console:dashboard"), {"agency": 999999})
    assert refused.status_code == 200 and refused.context["form"].errors  # not a choice: told, own agency shown
    parepare = browser("pupr.parepare").get(reverse("console:dashboard"))
    assert parepare.context["region"].code == "73.72" and parepare.context["total"].received == 0


def test_xlsx_exports(demo, road_complaint):
    import io

    from openpyxl import load_workbook

    client = browser("pupr.kabid")
    answer = client.get(reverse("console:export"), {"format": "xlsx"})
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Kode pelacakan" and rows[1][0] == road_complaint.tracking_code and len(rows) == 2
    board = client.get(reverse("console:dashboard"), {"weeks": 4, "format": "xlsx"})
    weeks = list(load_workbook(io.BytesIO(board.content)).active.iter_rows(values_only=True))
    assert len(weeks) == 5 and sum(week[1] for week in weeks[1:]) == 1
    assert client.get(reverse("console:export"), {"format": "exe"})["Content-Type"].startswith("text/csv")


def test_what_an_acceptance_tester_found(demo, road_complaint, resident, settings):
    """A formula a resident wrote stays text in exports; a NUL is told, never a 500; another region's case is not
    found for every action; guesses of the current password count toward the lock-out."""
    import io

    from openpyxl import load_workbook

    resident.full_name = '=HYPERLINK("http://evil.example","klik")'
    resident.save(update_fields=["full_name"])
    client = browser("pupr.staf")
    exported = b"".join(client.get(reverse("console:export")).streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in exported
    book = load_workbook(io.BytesIO(client.get(reverse("console:export"), {"format": "xlsx"}).content))
    reporter = list(book.active.iter_rows(values_only=True))[1][-1]
    assert reporter.startswith("'=") and book.active.cell(row=2, column=12).data_type == "s"

    nul = post(client, case_url(road_complaint, "note"), {"version": road_complaint.version, "text": "a\x00b"})
    assert nul.status_code == 400 and [m.level_tag for m in nul.context["messages"]][-1] == "error"

    other = browser("pupr.parepare")
    for action in ("publish", "note", "explode"):
        assert post(other, case_url(road_complaint, action), {"version": road_complaint.version}).status_code == 404

    settings.LOGIN_PER_ACCOUNT_PER_HOUR = 2
    for _ in range(2):
        client.post(reverse("console:password"), {"current_password": "nope", "new_password": "Kuat-sekali-2027"})
    locked = client.post(
        reverse("console:password"), {"current_password": DEMO_PASSWORD, "new_password": "Kuat-sekali-2027"}
    )
    assert locked.status_code == 400 and staff_user("pupr.staf").check_password(DEMO_PASSWORD)
