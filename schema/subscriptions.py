"""GraphQL subscriptions: live changes of cases, over the WebSocket at `/graphql` (schema.ws).

Each subscription listens to a channel-layer group that the outbox fills (notifications.delivery): `case.<id>`,
`user.<id>`, `agency.<id>`. A group message carries ids only. The subscribe function checks, once, that the
subscriber may follow what they asked for; then, for every message, the field's resolver loads the case again with
the subscriber's own permissions, in the same worker thread that resolves the rest of the payload, and skips what
they may not see (an internal event to a resident, a confidential case to a stranger, a case of another region).
The payload is resolved like any query on the same `Case` type.

A subscriber that was away (a reconnect) passes the last notification id it saw, as the field's `after` or, for the
subscriptions a client re-sends as it reconnects, as `lastNotificationId` in `connection_init` (which `graphql-ws`
clients ask the app for on every reconnect; schema.ws). The subscription joins its group first, then replays what
the outbox holds since then (notifications.selectors.missed), then goes live, dropping the live copies of what it
replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import graphene
from channels.db import database_sync_to_async
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from backend.cases.errors import CaseErrorCode
from backend.cases.models import Audience, Case, Visibility
from backend.complaints import selectors as complaint_selectors
from backend.errors import DomainError
from backend.regions.models import Agency
from notifications import selectors as notification_selectors
from notifications.delivery import group_name
from schema.cases.types import CaseNode
from schema.errors import query_error
from schema.fields import node_pk


@dataclass(frozen=True)
class Update:
    notification_id: str
    event_type: str
    at: datetime
    case: Case
    replayed: bool


class CaseUpdate(graphene.ObjectType):
    notification_id = graphene.ID(
        required=True,
        description="The id of the change: the same on every subscription and push that carries it. A change may "
        "arrive more than once (at least once): drop an id you have already handled. Pass the last one you received "
        "as `after` (or `lastNotificationId` of `connection_init`) to resume after a reconnect.",
    )
    event_type = graphene.String(required=True, description="The timeline event that happened, e.g. `resolved`.")
    at = graphene.DateTime(required=True)
    case = graphene.Field(CaseNode, required=True, description="The case as it is now, as you may see it.")
    replayed = graphene.Boolean(
        required=True,
        description="True for a notification sent again because the subscription asked to resume `after` an "
        "earlier one (it happened while you were away); false for one sent as it happened.",
    )


def _not_found(field: str):
    return query_error(DomainError(CaseErrorCode.NOT_FOUND, _("No such case."), field=field))


def _case(case_id: int) -> Case | None:
    return Case.objects.filter(pk=case_id).select_related("complaint").first()


def _update_for(actor, message: dict, *, internals, replayed: bool = False) -> Update | None:
    """The update this message means for the subscriber, or None when they may not see it (any more).
    `internals(actor, case)`: whether the subscriber sees internal events; None when the subscription no longer
    applies to them (staff who left the agency)."""
    case = _case(message["case"])
    if case is None or not complaint_selectors.can_view(actor, case):
        return None
    sees_internals = internals(actor, case)
    if sees_internals is None or (message["visibility"] != Visibility.PUBLIC and not sees_internals):
        return None
    return Update(message["id"], message["event_type"], parse_datetime(message["at"]), case, replayed)


def _find_case(actor, id, region, tracking_code) -> Case:
    if id is not None:
        case = _case(node_pk(id, "Case") or 0)
        field = "id"
    elif region and tracking_code:
        key = complaint_selectors.tracking_code_key(region, tracking_code)
        case = complaint_selectors.by_tracking_code(*key).select_related("complaint").first()
        field = "trackingCode"
    else:
        raise query_error(
            DomainError(CaseErrorCode.INVALID, _("Give the case's id, or its region and tracking code."), field="id")
        )
    if case is None or not complaint_selectors.can_view(actor, case):
        raise _not_found(field)
    return case


def _queue_agency(actor, agency_id) -> Agency:
    if agency_id is None:
        agencies = sorted(actor.agency_roles)
        if len(agencies) != 1:
            raise query_error(
                DomainError(CaseErrorCode.INVALID, _("Say which agency's queue to follow."), field="agencyId")
            )
        pk = agencies[0]
    else:
        pk = node_pk(agency_id, "Agency") or 0
    agency = Agency.objects.filter(pk=pk).first()
    if agency is None or not (actor.works_at(agency.pk) or actor.administers(agency.region_id)):
        raise query_error(DomainError(CaseErrorCode.FORBIDDEN, _("You do not work on this queue."), field="agencyId"))
    return agency


class SkipEvent(Exception):
    """Raised by a subscription field's resolver for an event this subscriber may not see: nothing is sent."""


@dataclass(frozen=True)
class Incoming:
    """An event of the source stream: the group message, who may see its internal events, and whether it is
    replayed."""

    message: dict
    internals: object
    replayed: bool = False


async def _stream(info, audience: str, audience_id: int, *, internals, after: str | None):
    """The group's messages, untouched: the permission check and loading happen in the resolver below, in the same
    worker thread as the rest of the payload. Listening starts before this returns, so no change made after the
    subscribe message is missed; with `after` (or the connection's `lastNotificationId`), what the subscriber missed
    before that comes first."""
    after = after if after is not None else info.context.resume_after
    messages = await info.context.listen(group_name(audience, audience_id))
    missed = []
    if after is not None:
        try:
            missed = await database_sync_to_async(notification_selectors.missed)(audience, audience_id, after)
        except DomainError as exc:
            await messages.aclose()
            raise query_error(exc) from None
        except BaseException:
            await messages.aclose()
            raise

    async def incoming():
        replayed = {message["id"] for message in missed}
        try:
            for message in missed:
                yield Incoming(message, internals, replayed=True)
            async for message in messages:
                if message["id"] not in replayed:
                    yield Incoming(message, internals)
        finally:
            await messages.aclose()

    return incoming()


def _resolve_update(incoming: Incoming, info, **_arguments) -> Update:
    # context.actor, not the one at subscribe time: the connection reloads the roles now and then.
    update = _update_for(info.context.actor, incoming.message, internals=incoming.internals, replayed=incoming.replayed)
    if update is None:
        raise SkipEvent
    return update


AFTER = (
    "Resume after a reconnect: the last `notificationId` you received. What happened since is sent first (with "
    "`replayed: true`), then live changes. Overrides `lastNotificationId` of `connection_init`."
)


class Subscription(graphene.ObjectType):
    case_updated = graphene.Field(
        CaseUpdate,
        required=True,
        id=graphene.ID(description="The case's id."),
        region=graphene.String(description="With `trackingCode`: the region's slug or Kemendagri code."),
        tracking_code=graphene.String(),
        after=graphene.ID(description=AFTER),
        description="Every change of one case you may see: by its id, or by region and tracking code.",
    )
    my_cases = graphene.Field(
        CaseUpdate,
        required=True,
        after=graphene.ID(description=AFTER),
        description="Changes of every case you reported or joined (and, for staff, of cases assigned to you).",
    )
    agency_queue = graphene.Field(
        CaseUpdate,
        required=True,
        agency_id=graphene.ID(description="Needed only when you work at several agencies, or as a region admin."),
        after=graphene.ID(description=AFTER),
        description="Staff: cases arriving in, moving within and leaving an agency's queue.",
    )

    resolve_case_updated = staticmethod(_resolve_update)
    resolve_my_cases = staticmethod(_resolve_update)
    resolve_agency_queue = staticmethod(_resolve_update)

    @staticmethod
    async def subscribe_case_updated(root, info, id=None, region=None, tracking_code=None, after=None):
        actor = info.context.actor
        case = await database_sync_to_async(_find_case)(actor, id, region, tracking_code)
        return await _stream(info, Audience.CASE, case.pk, internals=complaint_selectors.sees_internals, after=after)

    @staticmethod
    async def subscribe_my_cases(root, info, after=None):
        actor = info.context.actor
        if actor.user is None:
            raise query_error(DomainError(CaseErrorCode.FORBIDDEN, _("Sign in to follow your cases."), field=None))
        return await _stream(
            info, Audience.USER, actor.user.pk, internals=complaint_selectors.sees_internals, after=after
        )

    @staticmethod
    async def subscribe_agency_queue(root, info, agency_id=None, after=None):
        actor = info.context.actor
        agency = await database_sync_to_async(_queue_agency)(actor, agency_id)

        def internals(actor, case):
            on_queue = actor.works_at(agency.pk) or actor.administers(agency.region_id)
            return actor.works_in_region(case.region_id) if on_queue else None

        return await _stream(info, Audience.AGENCY, agency.pk, internals=internals, after=after)
