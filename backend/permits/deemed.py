"""Deemed approval (fiktif positif, UU 30/2014 art. 53 as amended by UU 6/2023): the sweep that flags a case whose
deadline passed without a decision."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from backend.cases.services import transition
from backend.permits.models import (
    PermitApplication,
)
from backend.permits.workflow import PermitStatus


def flag_deemed_approvals(*, now: dt.datetime | None = None) -> int:
    """Fiktif positif (UU 30/2014 art. 53, as amended by UU 6/2023): for types that say so, a case whose deadline
    passed without a decision is flagged, once, on its timeline and to the region's admins."""
    from backend.accounts.models import Membership, Role

    now = now or timezone.now()
    due = PermitApplication.objects.filter(
        type_version__deemed_approval=True,
        deemed_flagged_at__isnull=True,
        case__due_at__lt=now,
        case__sla_paused_at__isnull=True,
        case__status__in=[
            PermitStatus.SUBMITTED,
            PermitStatus.VERIFICATION,
            PermitStatus.RESUBMITTED,
            PermitStatus.TECHNICAL_REVIEW,
            PermitStatus.FEE_ASSESSED,
            PermitStatus.PAID,
        ],
    ).select_related("case__region")
    flagged = 0
    for application in due:
        admins = Membership.objects.filter(region_id=application.region_id, role=Role.REGION_ADMIN).values_list(
            "user_id", flat=True
        )
        with transaction.atomic():
            transition(
                application.case,
                "flag_deemed_approval",
                actor=None,
                payload={"due_at": application.case.due_at.isoformat()},
                notify=list(admins),
            )
            PermitApplication.objects.filter(pk=application.pk).update(deemed_flagged_at=now)
        flagged += 1
    return flagged
