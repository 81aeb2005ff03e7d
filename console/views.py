"""The staff console: pages for OPD staff and region admins over the same services and selectors as the API. A view
reads its input, calls one service or selector and renders; who may see or do what, in which state and region, is
decided in the domain, never here. Every page carries a Content-Security-Policy without inline scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from graphql_relay import to_global_id

from backend.accounts import services as accounts
from backend.accounts.actor import Actor
from backend.cases import dashboard, survey
from backend.cases import selectors as case_selectors
from backend.cases import services as cases
from backend.cases.errors import CaseErrorCode, RejectReason
from backend.cases.models import CaseKind, Priority
from backend.cases.moves import open_moves
from backend.cases.workflow import STATUS_LABELS
from backend.complaints import selectors as complaint_selectors
from backend.complaints import services as complaints
from backend.errors import DomainError, DomainErrors
from backend.keyset import InvalidCursor
from backend.permits import selectors as permit_selectors
from backend.regions.models import Agency, Region
from backend.work import queue
from backend.work import services as work
from console import forms, inputs, permit_pages, queue_rows, tables
from console.security import content_security_policy
from media.models import AttachmentKind
from media.storage import url_for

PAGE_SIZE = 50
EXPORT_PAGE = 500


def console_view(view: Callable) -> Callable:
    """Signed in (else to the sign-in page), staff (else a refusal: the queue's rule), with the console's CSP."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(_page_after_sign_in(request), reverse("console:sign-in"))
        session_id = request.session.get(AUTH_SESSION)
        if session_id is None:  # signed in before the console kept a session of its own
            _start_browser_session(request, request.user)
        elif not accounts.browser_session_live(user=request.user, session_id=session_id):
            logout(request)  # signed out everywhere, or the password changed, from another device
            messages.info(request, _("Your session was ended from another device. Sign in again."))
            if request.method == "POST":
                messages.warning(request, _("What you sent was not saved: do it again after signing in."))
            return redirect_to_login(_page_after_sign_in(request), reverse("console:sign-in"))
        request.actor = Actor.for_user(request.user)
        try:
            queue.scope_of(request.actor)
        except DomainError as exc:
            return render(request, "console/refused.html", {"message": exc.message}, status=403)
        return view(request, *args, **kwargs)

    return content_security_policy(wrapped)


def _page_after_sign_in(request) -> str:
    """Where signing in leads back to: the page asked for, or for a form sent when the session had ended, the page
    it was sent from (an action's address answers posts only)."""
    if request.method == "GET":
        return request.get_full_path()
    referer = request.META.get("HTTP_REFERER", "")
    if url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        return urlsplit(referer).path
    return reverse("console:queue")


AUTH_SESSION = "console_auth_session"  # the browser's sign-in session (accounts.start_browser_session), by id


def _start_browser_session(request, user) -> None:
    session = accounts.start_browser_session(user=user, client=accounts.ClientInfo.of(request))
    request.session[AUTH_SESSION] = str(session.pk)


# --- signing in and out --------------------------------------------------------------------------------------------


@content_security_policy
def sign_in(request):
    """Staff accounts by username or e-mail, with the API's per-address limit and per-account lock-out."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("console:queue")
    form = forms.SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.check_password_sign_in(
                login=form.cleaned_data["login"],
                password=form.cleaned_data["password"],
                client=accounts.ClientInfo.of(request),
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend="backend.accounts.backends.StaffLoginBackend")
            _start_browser_session(request, user)
            return redirect(target)
    return render(request, "console/sign_in.html", {"form": form, "next": target}, status=400 if form.errors else 200)


@require_POST
def sign_out(request):
    if request.user.is_authenticated and request.session.get(AUTH_SESSION):
        with suppress(DomainError):  # ended already, from another device
            accounts.revoke_session(user=request.user, session_id=request.session[AUTH_SESSION])
    logout(request)
    return redirect("console:sign-in")


@console_view
def password(request):
    form = forms.PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.change_password(
                user=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            form.add_error("current_password" if exc.field == "currentPassword" else "new_password", exc.message)
        else:
            update_session_auth_hash(request, request.user)  # this browser stays signed in; the apps sign in again
            _start_browser_session(request, request.user)
            messages.success(request, _("Your password was changed."))
            return redirect("console:queue")
    return render(request, "console/password.html", {"form": form}, status=400 if form.errors else 200)


@console_view
@require_POST
def live_token(request):
    """A short access token for the page's live updates over the WebSocket (graphql-transport-ws), asked for again
    whenever the socket (re)connects; 403 once the browser's session has ended."""
    try:
        token, expires = accounts.browser_access_token(user=request.user, session_id=request.session[AUTH_SESSION])
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=403)
    response = JsonResponse({"token": token, "expiresAt": expires.isoformat()})
    response["Cache-Control"] = "no-store"
    return response


# --- the queue -----------------------------------------------------------------------------------------------------


def _filters(request) -> tuple[forms.QueueForm, queue.QueueFilter]:
    form = forms.QueueForm(request.GET or None)
    return form, form.queue_filter() if form.is_valid() else queue.QueueFilter()


@console_view
@require_GET
def queue_page(request):
    actor = request.actor
    form, filters = _filters(request)
    keyset = queue.ORDERS[filters.order]
    try:
        after = tuple(keyset.decode(request.GET["after"])) if request.GET.get("after") else None
    except InvalidCursor:
        messages.error(request, _("That page link is not valid any more; here is the first page."))
        after = None
    rows = queue.queue_page(actor=request.actor, filters=filters, page=queue.PageRequest(PAGE_SIZE, after=after))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("after", None)
    next_query = None
    if more:
        query["after"] = keyset.cursor(rows[-1])
        next_query = query.urlencode()
        query.pop("after")
    totals = queue.queue_totals(actor=request.actor, filters=filters)
    incoming = (
        queue.queue_totals(actor=request.actor, filters=queue.QueueFilter(incoming=True))["total"]
        if request.actor.agency_roles
        else 0
    )
    case_path = reverse("console:case", args=[0])[:-1]  # + a row's id: one reverse() for the page, not 50
    context = {
        "case_path": case_path,
        "form": form,
        # a reviewing agency's part in other agencies' permits, which its queue does not hold
        "reviews": _reviews_waiting(request.actor),
        "rows": rows,
        "rows_html": queue_rows.render(rows, case_path),
        "totals": totals,
        "incoming": incoming,
        "next_query": next_query,
        "first_query": query.urlencode() if after else None,
        "export_query": query.urlencode(),
        "live": _live(
            [{"query": QUEUE_LIVE, "variables": {"a": to_global_id("Agency", pk)}} for pk in _followed_agencies(actor)]
        ),
    }
    return render(request, "console/queue.html", context)


# What a page follows live (console/live.js), through the API's subscriptions.
QUEUE_LIVE = (
    "subscription($a: ID) { agencyQueue(agencyId: $a) { notificationId case { trackingCode statusLabel version } } }"
)
CASE_LIVE = "subscription($c: ID) { caseUpdated(id: $c) { notificationId case { trackingCode statusLabel version } } }"


def _followed_agencies(actor: Actor) -> list[int]:
    """The agencies whose queues a queue page follows: the user's, or a region admin's every agency (a superuser's
    queue spans every region: it is not followed)."""
    if actor.is_superuser:
        return []
    if actor.admin_region_ids:
        agencies = Agency.objects.filter(region_id__in=actor.admin_region_ids).order_by("pk")
        return list(agencies.values_list("pk", flat=True))
    return sorted(actor.agency_roles)


def _live(subscriptions: list[dict], *, version: int | None = None) -> dict | None:
    if not subscriptions:
        return None
    return {"subscriptions": json.dumps(subscriptions), "url": settings.CONSOLE_WEBSOCKET_URL, "version": version}


def _reviews_waiting(actor: Actor) -> list:
    """A reviewing agency's part in other agencies' permits, which its queue does not hold."""
    waiting = permit_selectors.reviews_waiting_on(actor)
    if not actor.agency_roles or not waiting.exists():  # most agencies review nothing: one small query
        return []
    reviews = list(waiting[:20])
    language = (get_language() or "id")[:2]
    for review in reviews:
        review.permit_name = review.application.type_version.name(language)
    return reviews


@console_view
@require_GET
def export_queue(request):
    """The filtered queue, every page of it, as CSV (streamed) or XLSX (`format`); times in WIB (TIME_ZONE)."""
    _form, filters = _filters(request)
    actor, keyset = request.actor, queue.ORDERS[filters.order]
    format = request.GET.get("format") if request.GET.get("format") in tables.FORMATS else "csv"

    def rows():
        yield [_("Tracking code"), _("Kind"), _("Status"), _("Priority"), _("Submitted"), _("Due"), _("SLA"),
               _("Category"), _("Area"), _("Agency"), _("Assignee"), _("Reporter")]  # fmt: skip
        after = None
        while True:
            page = queue.queue_page(actor=actor, filters=filters, page=queue.PageRequest(EXPORT_PAGE, after=after))
            for row in page[:EXPORT_PAGE]:
                status, sla = STATUS_LABELS.get(row.status, row.status), forms.SLA_LABELS[row.sla_state]
                kind, priority = CaseKind(row.kind).label, Priority(row.priority).label
                yield [row.tracking_code, str(kind), str(status), str(priority), _local(row.submitted_at),
                       _local(row.due_at), str(sla), row.category_name, row.area_name, row.agency_name,
                       row.assignee_name, row.reporter_name]  # fmt: skip
            if len(page) <= EXPORT_PAGE:
                return
            after = tuple(getattr(page[EXPORT_PAGE - 1], key.name) for key in keyset.keys)

    return tables.respond(rows(), name="antrean", format=format, sheet=str(_("Queue")))


def _local(moment):
    return timezone.localtime(moment) if moment else None


# --- the map -------------------------------------------------------------------------------------------------------


@console_view
@require_GET
def map_page(request):
    return render(
        request,
        "console/map.html",
        {"tiles": settings.CONSOLE_TILE_URL, "attribution": settings.CONSOLE_TILE_ATTRIBUTION},
    )


@console_view
@require_GET
def map_points(request):
    points = queue.open_complaint_points(actor=request.actor)
    return JsonResponse(
        {
            "points": [
                {
                    "code": p.tracking_code,
                    "lat": p.lat,
                    "lon": p.lon,
                    "status": str(STATUS_LABELS.get(p.status, p.status)),
                    "sla": p.sla_state,
                    "slaLabel": str(forms.SLA_LABELS[p.sla_state]),
                    "url": reverse("console:case", args=[p.id]),
                }
                for p in points
            ]
        }
    )


# --- the dashboard -------------------------------------------------------------------------------------------------


def _home_region(actor: Actor):
    """The region a staff member's dashboard is of: the one they administer, else their agency's."""
    if actor.admin_region_ids:
        return Region.objects.filter(pk__in=actor.admin_region_ids).order_by("pk").first()
    agency = Agency.objects.filter(pk__in=list(actor.agency_roles)).select_related("region").order_by("pk").first()
    return agency.region if agency else Region.objects.order_by("pk").first()


@console_view
@require_GET
def dashboard_page(request):
    """Received, resolved, open, overdue, SLA compliance, response and resolution times, ratings and transfers, for
    the region or one agency, over the last weeks: the period's totals and a chart and table per week."""
    actor = request.actor
    region = _home_region(actor)
    agencies = Agency.objects.filter(region=region, active=True).order_by("name")
    own = None if actor.admin_region_ids or not actor.agency_roles else min(actor.agency_roles)
    data = request.GET if {"agency", "weeks"} & set(request.GET) else None
    form = forms.DashboardForm(
        data, agencies=agencies, initial={"agency": own, "weeks": forms.DashboardForm.DEFAULT_WEEKS}
    )
    if form.is_bound and form.is_valid():
        agency_id, weeks = form.cleaned_data["agency"], form.cleaned_data["weeks"]
    else:  # staff start from their own agency, admins from the region; a bad choice is told and shows the start
        agency_id, weeks = own, forms.DashboardForm.DEFAULT_WEEKS
    until = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    since = until - timedelta(weeks=weeks)
    try:
        total = dashboard.dashboard_for(actor=actor, region=region, agency_id=agency_id, since=since, until=until)
        rows = dashboard.weekly_for(actor=actor, region=region, agency_id=agency_id, since=since, weeks=weeks)
    except DomainError as exc:
        raise Http404(exc.message) from None
    if request.GET.get("format") in tables.FORMATS:
        return _dashboard_table(rows, request.GET["format"])
    peak = max([1, *(max(board.received, board.resolved) for _start, board in rows)])
    chart = []
    for n, (start, b) in enumerate(rows):  # bars as SVG attributes: the CSP allows no style attribute
        received, resolved = 100 * b.received // peak, 100 * b.resolved // peak
        chart.append({"start": start, "board": b, "x": n * 10 + 1, "received": received, "resolved": resolved,
                      "received_y": 105 - received, "resolved_y": 105 - resolved})  # fmt: skip
    query = request.GET.copy()
    query.pop("format", None)
    index = survey.service_index(region_id=region.pk, agency_id=agency_id, since=since, until=until)
    context = {"form": form, "region": region, "total": total, "chart": chart, "chart_width": len(chart) * 10,
               "export_query": query.urlencode(), "index": index}  # fmt: skip
    return render(request, "console/dashboard.html", context)


def _dashboard_table(rows, format: str) -> HttpResponse:
    def table():
        yield [_("Week from"), _("Received"), _("Resolved"), _("SLA compliance (%)"),
               _("Median hours to resolve"), _("90th percentile hours to resolve"), _("Average rating"),
               _("Transfers in"), _("Transfers out")]  # fmt: skip
        for start, b in rows:
            yield [start.date(), b.received, b.resolved, _num(b.sla_compliance),
                   _hours(b.resolution_median_s), _hours(b.resolution_p90_s), _num(b.average_rating),
                   b.transfers_in, b.transfers_out]  # fmt: skip

    return tables.respond(table(), name="dasbor", format=format, sheet=str(_("Dashboard")))


def _num(value) -> float | None:
    return None if value is None else round(value, 1)


def _hours(seconds) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


# --- a case --------------------------------------------------------------------------------------------------------


def _case(request, case_id: int, related: tuple[str, ...] = ()):
    try:
        return cases.staff_case(actor=request.actor, case_id=case_id, related=related)
    except DomainError:
        raise Http404(_("No such case.")) from None


@console_view
@require_GET
def case_page(request, case_id: int):
    return _render_case(request, _case(request, case_id, PAGE_RELATED))


# What the case page shows of a case's relations, loaded with it.
PAGE_RELATED = ("resident", "assignee", "transfer_to", "complaint__category")


def _render_case(request, case, **extra) -> HttpResponse:
    """The case page: what every case shows, then what its kind adds (permit_pages for a permit)."""
    actor = request.actor
    events = list(complaint_selectors.timeline(actor, case).select_related("actor"))
    labels = permit_pages.target_labels(case) if case.kind == CaseKind.PERMIT else {}
    for event in events:
        event.who = complaint_selectors.person_label(actor, case, event.actor)
        event.label = forms.EVENT_LABELS.get(event.type, event.type)
        event.detail = _event_detail(event, labels)
    offered = ACTIONS if case.kind == CaseKind.COMPLAINT else permit_pages.ACTIONS
    moves = set(open_moves(case, actor) & {*offered, *MODERATION})
    if case.assignee_id == actor.user.pk:
        moves.discard("claim")
    context = {
        "case": case,
        "act": reverse("console:case-action", args=[case.pk, "x"])[:-1],  # + an action: one reverse() a page
        "status": STATUS_LABELS.get(case.status, case.status),
        "reporter": complaint_selectors.person_label(actor, case, case.resident),
        "events": events,
        # staff see the whole timeline (staff_case: of the region), so the chain is checked on the events loaded
        "broken": case_selectors.verify_chain(case, sorted(events, key=lambda event: event.seq)),
        "tiles": settings.CONSOLE_TILE_URL,
        "attribution": settings.CONSOLE_TILE_ATTRIBUTION,
        "live": _live([{"query": CASE_LIVE, "variables": {"c": to_global_id("Case", case.pk)}}], version=case.version),
        **extra,
    }
    if case.kind == CaseKind.COMPLAINT:
        context.update(_complaint_context(actor, case, moves))
    else:
        context.update(permit_pages.context(request, case, moves, labels))
    context["moves"] = moves
    context["actionable"] = bool(moves - {"publish", "unpublish", "mark_duplicate", "reveal_nik"})
    return render(request, "console/case.html", context)


def _complaint_context(actor: Actor, case, moves: set[str]) -> dict:
    complaint = case.complaint
    photos = []
    if complaint_selectors.shows_photos(actor, case):
        photos = [
            {
                "small": url_for(a.small_key),
                "large": url_for(a.large_key),
                "full": url_for(a.storage_key),
                "result": a.requirement == cases.RESULT_PHOTO,
            }
            for a in case.attachments.filter(kind=AttachmentKind.PHOTO).order_by("position")
        ]
    nearby = []
    if case.lat is not None:
        nearby = complaint_selectors.nearby_open_complaints(
            region=case.region, category=complaint.category, lat=case.lat, lon=case.lon, exclude_case_id=case.pk
        )
    moves.discard("unpublish" if not complaint.published else "publish")
    return {
        "complaint": complaint,
        "answers": complaint_selectors.extra_answers(complaint),
        "photos": photos,
        "nearby": nearby,
        "agencies": Agency.objects.filter(region_id=case.region_id, active=True)
        .exclude(pk=case.agency_id)
        .order_by("name")
        if "transfer" in moves
        else [],
        "assignees": case_selectors.assignable_staff(case) if "assign" in moves else [],
        "templates": work.reply_templates(case.agency_id) if "reply" in moves else [],
        "reasons": [(reason.value, forms.REJECT_LABELS[reason]) for reason in RejectReason],
    }


def _event_detail(event, labels: dict[str, str]) -> str:
    """What a timeline line adds to its label: the reason of a rejection, the agency a case was offered to, what a
    permit's step recorded."""
    payload = event.payload
    if event.type == "rejected" and payload.get("reason") in RejectReason.__members__.values():
        return str(forms.REJECT_LABELS[RejectReason(payload["reason"])])
    if event.type == "transfer_offered" and payload.get("to"):  # a transfer's from/to are agency codes
        named = Agency.objects.filter(region_id=event.case.region_id, code=payload["to"]).values_list("name", flat=True)
        return f"→ {named.first() or payload['to']}"
    if event.type == "resolved" and payload.get("photo"):
        return str(_("With a photo of the result."))
    return permit_pages.event_detail(event, labels)


# action -> (service, its inputs read from the request). Each service checks role, state, tenant and version itself.
ACTIONS: dict[str, tuple[Callable, dict[str, inputs.Reader]]] = {
    "accept": (cases.accept, {}),
    "start": (cases.start_work, {}),
    "claim": (cases.claim, {}),
    "assign": (cases.assign, {"assignee_id": inputs.number("assignee")}),
    "reply": (cases.reply, {"text": inputs.text("text")}),
    "note": (cases.add_note, {"text": inputs.text("text")}),
    "request_info": (cases.request_info, {"question": inputs.text("text")}),
    "resolve": (cases.resolve, {"note": inputs.text("text"), "photo": inputs.file("photo")}),
    "reject": (cases.reject, {"reason": inputs.text("reason"), "note": inputs.text("text")}),
    "transfer": (cases.transfer, {"agency_id": inputs.number("agency"), "reason": inputs.text("text")}),
    "accept_transfer": (cases.accept_transfer, {}),
    "decline_transfer": (cases.decline_transfer, {"reason": inputs.text("text")}),
    "forward": (cases.forward, {"body": inputs.text("text"), "reference": inputs.text("reference")}),
    "mark_duplicate": (complaints.mark_duplicate, {"original_id": inputs.number("original")}),
}
MODERATION = {"publish": True, "unpublish": False}


def _template_text(request, case) -> str:
    template = work.reply_templates(case.agency_id).filter(pk=inputs.number("template")(request))
    return template.values_list("text", flat=True).first() or ""


@console_view
@require_http_methods(["GET", "POST"])
def case_action(request, case_id: int, action: str):
    """One action on a case, with the version the page showed: a case changed meanwhile is never overwritten. The
    action's address opened (back, a bookmark, signing in again) leads to the case."""
    if request.method == "GET":
        return redirect("console:case", case_id=case_id)
    case = _case(request, case_id)  # another region's case: not found, whatever the action
    offered = ACTIONS if case.kind == CaseKind.COMPLAINT else permit_pages.ACTIONS
    try:
        if action in MODERATION and case.kind == CaseKind.COMPLAINT:
            complaints.set_published(actor=request.actor, case_id=case_id, published=MODERATION[action])
        elif action == "reveal_nik" and case.kind == CaseKind.PERMIT:
            nik = permit_pages.reveal_nik(request.actor, case)
            response = _render_case(request, _case(request, case_id, PAGE_RELATED), nik=nik)
            response["Cache-Control"] = "no-store"  # the whole NIK is not kept by the browser or a proxy
            return response
        elif action in offered:
            service, readers = offered[action]
            values = {name: read(request) for name, read in readers.items()}
            if action == "reply" and not values["text"].strip() and request.POST.get("template"):
                values["text"] = _template_text(request, case)  # sent without script: the template as it is
            service(actor=request.actor, case_id=case_id, expected_version=inputs.number("version")(request), **values)
        else:
            raise Http404(_("No such action."))
    except DomainError as exc:
        if exc.code == CaseErrorCode.NOT_FOUND:
            raise Http404(exc.message) from None
        if exc.code == CaseErrorCode.CONFLICT:
            messages.warning(request, _("This case changed meanwhile: here it is as it is now. Nothing was saved."))
            return _refused(request, case_id, action, status=409)
        messages.error(request, exc.message)
        return _refused(request, case_id, action)
    except DomainErrors as exc:
        for error in exc.errors:
            messages.error(request, _row_named(error))
        return _refused(request, case_id, action)
    messages.success(request, _("Done."))
    return redirect("console:case", case_id=case_id)


def _row_named(error: DomainError) -> str:
    """A refusal of one row of a form of rows (`items.1`) says which row."""
    name, _dot, index = (error.field or "").partition(".")
    if name == "items" and index.isdigit():
        return _("Row %(row)s: %(message)s") % {"row": int(index) + 1, "message": error.message}
    return error.message


def _refused(request, case_id: int, action: str, *, status: int = 400) -> HttpResponse:
    """The case as it is now, with the refusal and what was typed into the refused action's form (files excepted:
    a browser never lets a page fill in a file field)."""
    response = _render_case(request, _case(request, case_id, PAGE_RELATED), failed=action, posted=request.POST)
    response.status_code = status
    return response
