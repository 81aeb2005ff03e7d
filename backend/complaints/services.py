"""Writes of complaints: submit (with routing), join as co-reporter, the resident's confirm / reopen / rating,
staff marking a duplicate and moderating public view. Every status change goes through `cases.transition()`."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend import ratelimit, sql
from backend.accounts.actor import Actor
from backend.cases.models import Case, CaseKind, CaseParticipant
from backend.cases.opening import AlreadyOpened, FirstMove, Outdated, open_case
from backend.cases.services import transition
from backend.complaints.config import region_config
from backend.complaints.errors import ComplaintErrorCode
from backend.complaints.models import Complaint, ComplaintCategory, RoutingRule, SlaUnit
from backend.complaints.routing import route_complaint
from backend.complaints.selectors import WORKABLE_STATUSES, can_view, h3_cell
from backend.complaints.workflow import ComplaintStatus
from backend.errors import DomainError, DomainErrors
from backend.forms import form_errors
from backend.regions import calendar
from backend.regions import selectors as region_selectors
from backend.regions import services as region_services
from backend.regions.geo import valid_point
from media.services import StoredPhotos, check_photos

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000
REASON_MAX = 1000


@dataclass(frozen=True)
class Submitted:
    case: Case
    created: bool  # False: the idempotency key named a case this resident had already submitted


def _require_resident(actor: Actor):
    if actor.user is None:
        raise DomainError(ComplaintErrorCode.NOT_AUTHENTICATED, _("Sign in first."))
    return actor.user


def _extra_errors(validator: Draft202012Validator | None, extra) -> list[DomainError]:
    if validator is None:
        return []
    return [
        DomainError(ComplaintErrorCode.INVALID, message, field=field)
        for field, message in form_errors(validator, extra, prefix="extra")
    ]


# A complaint's row when it is opened in one statement (backend.cases.opening), every column named.
COMPLAINT_INSERT = sql.Insert(
    Complaint,
    (
        "case_id", "category_id", "description", "address", "anonymous", "confidential", "extra", "media_url",
        "published", "rating", "rating_comment",
    ),
)  # fmt: skip


def deadline(region, category: ComplaintCategory, start):
    """When the category's service level runs out for a complaint submitted at `start`."""
    if category.sla_unit == SlaUnit.HOURS:
        return calendar.add_working_time(region, start, timedelta(hours=category.sla_value))
    return calendar.add_working_days(region, start, category.sla_value)


def submit_complaint(
    *,
    actor: Actor,
    region_slug_or_code: str,
    category_id: int,
    description: str,
    lat: float,
    lon: float,
    address: str = "",
    anonymous: bool = False,
    confidential: bool = False,
    extra: dict | None = None,
    idempotency_key: str = "",
    photos: Sequence = (),
    media_url: str = "",
) -> Submitted:
    """File a complaint, route it to an agency and start its clock — or return the case an earlier attempt with the
    same idempotency key created. Every input problem is reported at once, and nothing is written then. An
    integration (Open311) files under its own account, within its own hourly allowance, and may name a photo kept
    elsewhere (`media_url`, never fetched)."""
    user = _require_resident(actor)
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > 64:
        raise DomainError(
            ComplaintErrorCode.INVALID, _("The idempotency key is too long (64 at most)."), field="idempotencyKey"
        )
    # A retry that brings photos is looked up first, so they are not processed and stored again for nothing.
    # Otherwise the opening's first statement finds the earlier case itself (open_case: AlreadyOpened).
    earlier = _earlier_case(user, idempotency_key) if idempotency_key and photos else None
    if earlier is not None:
        return Submitted(earlier, False)
    if actor.grant is not None:
        limit = ratelimit.Limit("complaint-submit-integration", settings.OPEN311_SUBMISSIONS_PER_HOUR, 3600)
    else:
        limit = ratelimit.Limit("complaint-submit", settings.COMPLAINTS_PER_HOUR, 3600)
    verdict = ratelimit.hit(limit, str(user.pk))
    processed, photo_errors = _check_photos(photos) if verdict.allowed else ([], [])
    attempt = functools.partial(
        _file,
        actor=actor,
        user=user,
        verdict=verdict,
        region_slug_or_code=region_slug_or_code,
        category_id=category_id,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        anonymous=anonymous,
        confidential=confidential,
        extra=extra,
        media_url=media_url,
        idempotency_key=idempotency_key,
        processed=processed,
        photo_errors=photo_errors,
    )
    try:
        try:
            return Submitted(attempt(fresh=False), True)
        except Outdated:  # the region (or its areas, categories, rules…) changed since this process read it
            return Submitted(attempt(fresh=True), True)
    except AlreadyOpened as found:
        earlier = Case.objects.get(pk=found.case_id)
    except (DomainError, DomainErrors):
        # A retry of a submission that went through may be refused now (the hour's limit reached by then, a
        # category withdrawn since): it still gets its case back.
        earlier = _earlier_case(user, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
    ratelimit.give_back(limit, str(user.pk))  # a retry is free
    return Submitted(earlier, False)


def _earlier_case(user, idempotency_key: str) -> Case | None:
    return Case.objects.filter(resident_id=user.pk, idempotency_key=idempotency_key).first()


def _check_photos(photos) -> tuple[list, list[DomainError]]:
    if len(photos) > settings.MEDIA_MAX_PHOTOS:
        message = _("Attach at most %(count)d photos.") % {"count": settings.MEDIA_MAX_PHOTOS}
        return [], [DomainError(ComplaintErrorCode.TOO_MANY_PHOTOS, message, field="photos")]
    return check_photos(photos)


def _file(
    *,
    actor: Actor,
    user,
    verdict: ratelimit.Verdict,
    region_slug_or_code: str,
    category_id: int,
    description: str,
    lat: float,
    lon: float,
    address: str,
    anonymous: bool,
    confidential: bool,
    extra: dict | None,
    media_url: str,
    idempotency_key: str,
    processed: list,
    photo_errors: list[DomainError],
    fresh: bool,
) -> Case:
    """The submission itself, with the region as this process cached it (checked by the statement that writes the
    case: Outdated) or, when `fresh`, as read now."""
    if not verdict.allowed:
        raise DomainError(
            ComplaintErrorCode.RATE_LIMITED,
            _("You have filed many complaints in the last hour. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, verdict.retry_after // 60)},
            retry_after=verdict.retry_after,
        )
    region = region_selectors.cached_region(region_slug_or_code, fresh=fresh)
    if region is None:  # not cached: read just now
        raise DomainError(ComplaintErrorCode.UNKNOWN_REGION, _("Unknown region."), field="region")
    still = None if fresh else region_selectors.still_current(region)  # None: nothing cached to check
    errors: list[DomainError] = []
    config = region_config(region)
    category = config.categories.get(category_id)
    if category is None:
        errors.append(
            DomainError(ComplaintErrorCode.UNKNOWN_CATEGORY, _("Choose a category of this region."), field="category")
        )
    elif category.is_group:
        errors.append(
            DomainError(
                ComplaintErrorCode.CATEGORY_IS_A_GROUP, _("Choose a category within this group."), field="category"
            )
        )
    description = (description or "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX:
        errors.append(
            DomainError(
                ComplaintErrorCode.INVALID,
                _("Describe the problem in %(min)d to %(max)d characters.")
                % {"min": DESCRIPTION_MIN, "max": DESCRIPTION_MAX},
                field="description",
            )
        )
    address = (address or "").strip()
    if len(address) > 300:
        errors.append(
            DomainError(ComplaintErrorCode.INVALID, _("The address is too long (300 at most)."), field="address")
        )
    area = None
    if not (math.isfinite(lat) and math.isfinite(lon) and valid_point(lat, lon)):
        errors.append(
            DomainError(
                ComplaintErrorCode.INVALID_LOCATION, _("The location is not a point in Indonesia."), field="location"
            )
        )
    else:
        area = region_selectors.area_at(region, lat=lat, lon=lon)
        if area is None:
            errors.append(
                DomainError(
                    ComplaintErrorCode.OUTSIDE_REGION,
                    _("This location is outside %(region)s. Report it to the region where it is.")
                    % {"region": region.name},
                    field="location",
                )
            )
    extra = extra if extra is not None else {}
    if category is not None and not isinstance(extra, dict):
        errors.append(DomainError(ComplaintErrorCode.INVALID, _("Extra answers must be an object."), field="extra"))
    elif category is not None:
        errors.extend(_extra_errors(config.validator(category), extra))
    media_url = (media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            errors.append(
                DomainError(ComplaintErrorCode.INVALID, _("Give the photo's http(s) address."), field="mediaUrl")
            )
    errors.extend(photo_errors)
    if errors and still is not None:
        raise Outdated  # maybe refused by an outdated region (a category or an area added since): read it again
    if errors:
        raise DomainErrors(errors)

    decision = route_complaint(region=region, category=category, area=area)
    now = timezone.now()
    stored = StoredPhotos(processed, region_id=region.pk)  # files first: no slow I/O while rows are written
    try:
        # Outside a transaction: the tracking number is committed as it is taken, so the region's counter is never
        # held while the rows are written (a submission that fails leaves a gap in the numbers).
        case = open_case(
            actor=actor,
            fields={
                "kind": CaseKind.COMPLAINT,
                "region": region,
                "resident": user,
                "status": ComplaintStatus.SUBMITTED,
                "lat": round(lat, 7),
                "lon": round(lon, 7),
                "h3_cell": h3_cell(lat, lon),
                "area": area,
                "submitted_at": now,
                "idempotency_key": idempotency_key,
            },
            event_payload={"category": category.code, "area": area.code},
            # Routed at once, in the same statements as the opening.
            then=FirstMove(
                "route",
                changes={"agency": decision.agency, "due_at": deadline(region, category, now)},
                payload=decision.as_payload(),
            ),
            still=still,
            details=lambda case: [
                Complaint(
                    case=case,
                    category=category,
                    description=description,
                    address=address,
                    anonymous=anonymous,
                    confidential=confidential,
                    extra=extra,
                    media_url=media_url,
                ),
                *stored.rows(case, uploader=user),
            ],
        )
    except IntegrityError:
        stored.discard()
        # Two attempts with the same key raced; the other one won: hand back its case.
        earlier = _earlier_case(user, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        raise AlreadyOpened(earlier.pk) from None
    except BaseException:
        stored.discard()
        raise
    return case


def _complaint_case(case_id: int, actor: Actor) -> Case:
    case = Case.objects.filter(pk=case_id, kind=CaseKind.COMPLAINT).select_related("complaint").first()
    if case is None or not can_view(actor, case):
        raise DomainError(ComplaintErrorCode.NOT_FOUND, _("No such complaint."), field="case")
    return case


def join_as_co_reporter(*, actor: Actor, case_id: int) -> Case:
    """Follow an open complaint as a co-reporter instead of filing the same problem again."""
    user = _require_resident(actor)
    case = _complaint_case(case_id, actor)
    if actor.staff_region_ids and not actor.works_in_region(case.region_id):
        # Staff accounts are for the regions they work in; a staff member who has the problem too joins as a
        # resident (an account signed in by phone), not with the account of another region's office.
        raise DomainError(
            ComplaintErrorCode.FORBIDDEN, _("Staff accounts join only their own region's complaints."), field="case"
        )
    if case.resident_id == user.pk or case.participants.filter(user=user).exists():
        raise DomainError(ComplaintErrorCode.ALREADY_DONE, _("You already follow this complaint."), field="case")
    try:
        with transaction.atomic():
            CaseParticipant.objects.create(case=case, user=user)
            transition(case, "join", actor=actor, payload={"user": user.pk})
    except IntegrityError:  # a double tap: the other request joined first
        raise DomainError(
            ComplaintErrorCode.ALREADY_DONE, _("You already follow this complaint."), field="case"
        ) from None
    return case


def mark_duplicate(*, actor: Actor, case_id: int, original_id: int, expected_version: int | None = None) -> Case:
    """Staff: close a complaint as a duplicate of another open one of the region; its reporters follow the original."""
    case = _complaint_case(case_id, actor)
    original = Case.objects.filter(pk=original_id, kind=CaseKind.COMPLAINT, region_id=case.region_id).first()
    if original is None or original.pk == case.pk:
        raise DomainError(ComplaintErrorCode.NOT_FOUND, _("Choose another complaint of this region."), field="original")
    if original.status not in WORKABLE_STATUSES:
        raise DomainError(
            ComplaintErrorCode.INVALID_STATE, _("The original complaint is no longer open."), field="original"
        )
    with transaction.atomic():
        transition(
            case,
            "mark_duplicate",
            actor=actor,
            expected_version=expected_version,
            changes={"closed_at": timezone.now()},
            payload={"original": original.tracking_code},
        )
        reporters = {case.resident_id, *case.participants.values_list("user_id", flat=True)}
        already = {original.resident_id, *original.participants.values_list("user_id", flat=True)}
        added = sorted(reporters - already)
        CaseParticipant.objects.bulk_create(
            [CaseParticipant(case=original, user_id=u) for u in added], ignore_conflicts=True
        )
        if added:
            transition(original, "absorb_reporters", actor=None, payload={"from": case.tracking_code, "users": added})
    return case


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise DomainError(ComplaintErrorCode.INVALID, _("Give a reason (up to 1000 characters)."), field="reason")
    return reason


def confirm_resolution(*, actor: Actor, case_id: int, expected_version: int | None = None) -> Case:
    """The reporter agrees the problem is solved: the complaint closes."""
    case = _complaint_case(case_id, actor)
    return transition(
        case, "confirm", actor=actor, expected_version=expected_version, changes={"closed_at": timezone.now()}
    )


def reopen(*, actor: Actor, case_id: int, reason: str, expected_version: int | None = None) -> Case:
    """The reporter is not satisfied with the resolution (once; after that the agency decides)."""
    case = _complaint_case(case_id, actor)
    return transition(
        case, "reopen", actor=actor, expected_version=expected_version, payload={"reason": _reason(reason)}
    )


def rate(*, actor: Actor, case_id: int, rating: int, comment: str = "") -> Case:
    """The reporter rates a closed complaint, 1 to 5, once."""
    case = _complaint_case(case_id, actor)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(ComplaintErrorCode.INVALID, _("Rate from 1 to 5."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > REASON_MAX:
        raise DomainError(ComplaintErrorCode.INVALID, _("The comment is too long (1000 at most)."), field="comment")
    with transaction.atomic():
        transition(case, "rate", actor=actor, payload={"rating": rating})
        complaint = case.complaint
        complaint.rating, complaint.rating_comment = rating, comment
        complaint.save(update_fields=["rating", "rating_comment"])
    return case


def set_published(*, actor: Actor, case_id: int, published: bool) -> Case:
    """Staff moderation: approve (or withdraw) a complaint's photos and text for the public feed."""
    case = _complaint_case(case_id, actor)
    if case.complaint.published == published:
        return case
    with transaction.atomic():
        transition(case, "publish" if published else "unpublish", actor=actor)
        case.complaint.published = published
        case.complaint.save(update_fields=["published"])
    return case


# --- configuration (admin) -----------------------------------------------------------------------------------------


def save_category(*, actor: Actor, complaintcategory: ComplaintCategory) -> ComplaintCategory:
    return region_services.save_region_row(actor=actor, row=complaintcategory)


def delete_category(*, actor: Actor, complaintcategory: ComplaintCategory) -> None:
    region_services.delete_region_row(actor=actor, row=complaintcategory)


def save_routing_rule(*, actor: Actor, routingrule: RoutingRule) -> RoutingRule:
    return region_services.save_region_row(actor=actor, row=routingrule)


def delete_routing_rule(*, actor: Actor, routingrule: RoutingRule) -> None:
    region_services.delete_region_row(actor=actor, row=routingrule)
