"""The demo data loads twice without duplicating anything, and refuses to run in production."""

import io

import pytest
from django.core.management import CommandError, call_command

from backend.accounts.models import Membership, User
from backend.regions.models import Agency, Area, Region

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Region, Area, Agency, User, Membership)]


def test_idempotent(demo):
    before = counts()
    assert before[0] == 2 and before[2] >= 10
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == before


def test_refuses_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refuses to run in production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not Region.objects.exists()
