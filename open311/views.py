"""The GeoReport v2 endpoints. `jurisdiction_id` is the region's Kemendagri code (one deployment serves many);
`service_code` a complaint category's code; `service_request_id` a complaint's tracking code. Reads are public
(never a reporter; confidential complaints only with the `api_key` of an integration granted them); a POST needs
the `api_key` of an integration with `open311:submit` in that region and goes through the app's complaint service."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from backend.accounts.actor import Actor, Scope
from backend.complaints import selectors, services
from backend.complaints.config import region_config
from backend.complaints.workflow import LABELS
from backend.errors import DomainError, DomainErrors
from backend.forms import localized
from backend.integrations import services as integrations
from backend.regions import selectors as region_selectors
from media.models import Attachment, AttachmentKind
from media.storage import url_for
from open311.formats import error, render

MAX_RESULTS = 1000
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
# The complaint service names fields as the app sends them; an Open311 client knows them by the spec's names.
FIELD_NAMES = {"location": "lat/long", "mediaUrl": "media_url", "address": "address_string", "category": "service_code"}


class Refusal(Exception):
    def __init__(self, status: int, *descriptions: str, **headers):
        super().__init__(descriptions)
        self.status, self.descriptions, self.headers = status, descriptions, headers


def _param(request, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def _region(request):
    code = _param(request, "jurisdiction_id")
    if not code:
        raise Refusal(400, _("jurisdiction_id is required: the region's Kemendagri code, e.g. 16.06."))
    region = region_selectors.region_by_slug_or_code(code)
    if region is None:
        raise Refusal(404, _("Unknown jurisdiction_id."))
    return region


def _actor(request, region, *, submit: bool = False) -> Actor:
    key = _param(request, "api_key")
    if not key:
        if submit:
            raise Refusal(403, _("An api_key is required to submit."))
        return Actor.anonymous()
    grant = integrations.authenticate(key)
    if grant is None:
        raise Refusal(403, _("The api_key is not valid, or it was revoked."))
    if region.pk not in grant.region_ids:
        raise Refusal(403, _("The api_key is not valid for this jurisdiction."))
    if submit and Scope.SUBMIT not in grant.scopes:
        raise Refusal(403, _("This api_key may not submit requests."))
    if submit and region.pk != grant.home_region_id:  # a region granted to read is not one to file in
        raise Refusal(403, _("This api_key submits requests in its own region only."))
    return Actor.for_integration(grant)


def _time(value: datetime | None, region) -> str | None:
    return timezone.localtime(value, region.tz).isoformat() if value else None


def _when(request, name: str, region) -> datetime | None:
    text = _param(request, name)
    if not text:
        return None
    value = parse_datetime(text)
    if value is None:
        raise Refusal(400, _("%(name)s is not a w3c date and time, e.g. 2026-01-31T08:00:00+07:00.") % {"name": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value, region.tz)


def unknown(request):
    """Any other path: JSON unless it asked for XML, in the spec's error format."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    message = _(
        "No such resource: paths are discovery, services, services/{code}, requests, requests/{id}, "
        "tokens/{token} and servicerequestupdates, each ending in .json or .xml."
    )
    return error(fmt, 404, message)


def endpoint(*methods: str):
    """A view answering in the format of its URL's suffix, with the spec's errors for every refusal."""

    def wrap(view):
        @csrf_exempt
        def run(request, fmt: str, **kwargs):
            if request.method not in methods:
                return error(
                    fmt, 405, _("Use %(methods)s here.") % {"methods": ", ".join(methods)}, Allow=", ".join(methods)
                )
            try:
                _readable_input(request)
                return view(request, fmt, **kwargs)
            except Refusal as refusal:
                return error(fmt, refusal.status, *refusal.descriptions, **refusal.headers)

        return run

    return wrap


def _readable_input(request) -> None:
    """What no view can use: a NUL character anywhere (PostgreSQL stores no such text), or a POST body that is not
    a form (the spec's requests are form-encoded)."""
    try:
        sources = (request.GET, request.POST)
    except RequestDataTooBig:
        raise Refusal(413, _("The request is too large.")) from None
    for source in sources:
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise Refusal(400, _("%(name)s contains a NUL character.") % {"name": key.replace("\x00", "")})
    if request.method == "POST" and request.content_type not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        raise Refusal(400, _("Send the request form-encoded (application/x-www-form-urlencoded)."))


# --- discovery and services ----------------------------------------------------------------------------------------


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    return render(
        fmt,
        "discovery",
        "",
        {
            "changeset": "2026-12-06T00:00:00Z",
            "contact": settings.OPEN311_CONTACT,
            "key_service": _("Ask the region's admins for an integration with the open311:submit scope."),
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": base,
                    "changeset": "2026-12-06T00:00:00Z",
                    "type": "production",
                    "formats": ["application/json", "text/xml"],
                }
            ],
        },
    )


def _leaf_categories(region) -> tuple[list, dict]:
    """The categories a request may name (not groups), in the app's order, and every category by id."""
    categories = region_config(region).categories
    leaves = sorted((c for c in categories.values() if not c.is_group), key=lambda c: (c.sort_order, c.code))
    return leaves, categories


@endpoint("GET")
def service_list(request, fmt):
    region = _region(request)
    leaves, everything = _leaf_categories(region)
    return render(
        fmt,
        "services",
        "service",
        [
            {
                "service_code": category.code,
                "service_name": category.name,
                "description": category.name,
                "metadata": bool(category.extra_schema.get("properties")),
                "type": "realtime",
                "keywords": category.code.replace("-", ", "),
                "group": everything[category.parent_id].name if category.parent_id in everything else "",
            }
            for category in leaves
        ],
    )


def _category(region, code: str):
    leaves, _everything = _leaf_categories(region)
    for category in leaves:
        if category.code == code:
            return category
    raise Refusal(404, _("Unknown service_code for this jurisdiction."))


def attributes(schema: dict, language: str) -> list[dict]:
    """A category's extra fields (JSON Schema) as GeoReport attributes."""
    schema = localized(schema or {}, language)
    required = set(schema.get("required", []))
    result = []
    for order, (code, spec) in enumerate((schema.get("properties") or {}).items(), start=1):
        kind, values = spec.get("type"), []
        if "enum" in spec:
            datatype, values = "singlevaluelist", spec["enum"]
        elif kind == "array" and "enum" in (spec.get("items") or {}):
            datatype, values = "multivaluelist", spec["items"]["enum"]
        elif kind == "boolean":
            datatype, values = "singlevaluelist", ["true", "false"]
        elif kind in ("number", "integer"):
            datatype = "number"
        elif spec.get("format") == "date-time":
            datatype = "datetime"
        else:
            datatype = "text" if spec.get("maxLength", 0) > 200 else "string"
        result.append(
            {
                "variable": True,
                "code": code,
                "datatype": datatype,
                "required": code in required,
                "datatype_description": spec.get("description", ""),
                "order": order,
                "description": spec.get("title", code),
                "values": [{"key": str(value), "name": str(value)} for value in values],
            }
        )
    return result


@endpoint("GET")
def service_definition(request, fmt, code):
    region = _region(request)
    category = _category(region, code)
    definition = {"service_code": category.code, "attributes": attributes(category.extra_schema, get_language())}
    return render(fmt, "service_definition", "", definition)


# --- requests ------------------------------------------------------------------------------------------------------


def _status(case) -> str:
    return "closed" if case.status in selectors.CLOSED_STATUSES else "open"


def _photo_url(request, case, actor) -> str | None:
    if case.complaint.media_url:
        return case.complaint.media_url
    photos = getattr(case, "open311_photos", [])
    if photos and selectors.shows_photos(actor, case):
        return request.build_absolute_uri(url_for(photos[0].large_key))
    return None


def _items(request, cases, region, actor) -> list[dict]:
    notes = selectors.latest_public_notes(cases)
    return [
        {
            "service_request_id": case.tracking_code,
            "status": _status(case),
            "status_notes": notes.get(case.pk) or str(LABELS.get(case.status, case.status)),
            "service_name": case.complaint.category.name,
            "service_code": case.complaint.category.code,
            "description": case.complaint.description,
            "agency_responsible": case.agency.name if case.agency_id else "",
            "service_notice": "",
            "requested_datetime": _time(case.submitted_at, region),
            "updated_datetime": _time(case.updated_at, region),
            "expected_datetime": _time(case.due_at, region),
            "address": case.complaint.address,
            "address_id": "",
            "zipcode": "",
            "lat": case.lat,
            "long": case.lon,
            "media_url": _photo_url(request, case, actor),
        }
        for case in cases
    ]


def _with_photos(cases: list) -> list:
    prefetch_related_objects(
        cases,
        Prefetch(
            "attachments",
            queryset=Attachment.objects.filter(kind=AttachmentKind.PHOTO).order_by("position"),
            to_attr="open311_photos",
        ),
    )
    return cases


@endpoint("GET", "POST")
def requests(request, fmt):
    region = _region(request)
    if request.method == "POST":
        return _submit(request, fmt, region)
    actor = _actor(request, region)
    status = _param(request, "status").lower()
    if status not in ("", "open", "closed"):
        raise Refusal(400, _("status is open or closed."))
    since, until = _when(request, "start_date", region), _when(request, "end_date", region)
    if since and until and since > until:
        raise Refusal(400, _("start_date is after end_date."))
    ids = [part for part in _param(request, "service_request_id").split(",") if part.strip()]
    codes = [part.strip() for part in _param(request, "service_code").split(",") if part.strip()]
    cases = selectors.service_requests(
        actor=actor,
        region=region,
        tracking_codes=ids or None,
        category_codes=codes or None,
        since=since,
        until=until,
        closed=None if not status else status == "closed",
        limit=MAX_RESULTS,
    )
    return render(fmt, "service_requests", "request", _items(request, _with_photos(cases), region, actor))


@endpoint("GET")
def service_request(request, fmt, request_id):
    region = _region(request)
    actor = _actor(request, region)
    cases = selectors.service_requests(actor=actor, region=region, tracking_codes=[request_id], limit=1)
    if not cases:
        raise Refusal(404, _("No such service_request_id in this jurisdiction."))
    return render(fmt, "service_requests", "request", _items(request, _with_photos(cases), region, actor))


@endpoint("GET")
def token(request, fmt, token):
    """Requests get their id at once, and the token a POST returns is that id."""
    region = _region(request)
    cases = selectors.service_requests(actor=_actor(request, region), region=region, tracking_codes=[token], limit=1)
    if not cases:
        raise Refusal(404, _("No such token in this jurisdiction."))
    return render(fmt, "service_requests", "request", [{"service_request_id": cases[0].tracking_code, "token": token}])


def _attribute_values(request, schema: dict) -> dict:
    """`attribute[code]=value` (and `attribute[code][]=v` repeated for lists), typed as the category's schema says."""
    properties = (schema or {}).get("properties") or {}
    extra = {}
    for key in request.POST:
        if not key.startswith("attribute[") or not key.endswith("]"):
            continue
        code = key[len("attribute[") :].removesuffix("[]").removesuffix("]")
        spec = properties.get(code, {})
        values = request.POST.getlist(key)
        if spec.get("type") == "array":
            extra[code] = values
        elif spec.get("type") == "boolean":
            answer = values[-1].strip().lower()
            if answer not in BOOLEANS:
                raise Refusal(400, _("attribute[%(code)s] is true or false.") % {"code": code})
            extra[code] = BOOLEANS[answer]
        elif spec.get("type") in ("number", "integer"):
            try:
                number = float(values[-1])
            except ValueError:
                raise Refusal(400, _("attribute[%(code)s] must be a number.") % {"code": code}) from None
            extra[code] = int(number) if spec.get("type") == "integer" and number.is_integer() else number
        else:
            extra[code] = values[-1]
    return extra


def _submit(request, fmt, region) -> HttpResponse:
    actor = _actor(request, region, submit=True)
    category = _category(region, _param(request, "service_code"))
    try:
        lat, lon = float(_param(request, "lat")), float(_param(request, "long"))
    except ValueError:
        raise Refusal(400, _("lat and long are required here (decimal degrees).")) from None
    submitter = Actor(integrations.account_of(actor.grant), actor.grant)
    try:
        submitted = services.submit_complaint(
            actor=submitter,
            region_slug_or_code=region.code,
            category_id=category.pk,
            description=_param(request, "description"),
            lat=lat,
            lon=lon,
            address=_param(request, "address_string"),
            extra=_attribute_values(request, category.extra_schema),
            media_url=_param(request, "media_url"),
        )
    except DomainError as refused:
        return _refused([refused], fmt)
    except DomainErrors as refused:
        return _refused(refused.errors, fmt)
    case = submitted.case
    item = {
        "service_request_id": case.tracking_code,
        "service_notice": "",
        "account_id": None,
        "token": case.tracking_code,
    }
    return render(fmt, "service_requests", "request", [item], status=201)


def _refused(errors: list[DomainError], fmt: str) -> HttpResponse:
    rate_limited = [e for e in errors if str(e.code) == "rate_limited"]
    if rate_limited:
        retry = rate_limited[0].params.get("retry_after") or 60
        return error(fmt, 429, rate_limited[0].message, Retry_After=str(retry))
    return error(fmt, 400, *(f"{_spec_name(e.field)}: {e.message}" if e.field else e.message for e in errors))


def _spec_name(field: str) -> str:
    if field.startswith("extra."):
        code, _dot, rest = field[len("extra.") :].partition(".")
        return f"attribute[{code}]" + (f".{rest}" if rest else "")
    return FIELD_NAMES.get(field, field)


@endpoint("GET")
def request_updates(request, fmt):
    """The servicerequestupdates extension: public changes in a window (default: the last day)."""
    region = _region(request)
    actor = _actor(request, region)
    until = _when(request, "end_date", region) or timezone.now()
    since = _when(request, "start_date", region) or until - timedelta(days=1)
    if since > until:
        raise Refusal(400, _("start_date is after end_date."))
    events = selectors.request_updates(actor=actor, region=region, since=since, until=until, limit=MAX_RESULTS)
    return render(
        fmt,
        "service_request_updates",
        "request_update",
        [
            {
                "update_id": str(event.pk),
                "service_request_id": event.case.tracking_code,
                "status": "closed"
                if event.payload.get("to", event.case.status) in selectors.CLOSED_STATUSES
                else "open",
                "updated_datetime": _time(event.created_at, region),
                "description": str(
                    event.payload.get("note")
                    or event.payload.get("text")
                    or LABELS.get(event.payload.get("to"), "")
                    or event.type
                ),
                "media_url": None,
            }
            for event in events
        ],
    )
