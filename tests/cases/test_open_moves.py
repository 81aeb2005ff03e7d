"""open_moves(): what a screen offers is what the transition table allows the actor's roles in the case's state."""

from __future__ import annotations

import pytest

from backend.accounts.actor import Actor
from backend.cases.moves import open_moves
from backend.cases.services import transition
from tests.helpers import staff_actor

pytestmark = pytest.mark.django_db


def test_the_handler_the_reporter_and_another_agency(road_complaint, resident):
    handler = open_moves(road_complaint, staff_actor("pupr.staf"))
    assert {"accept", "reject", "transfer", "reply", "note"} <= handler and "start" not in handler
    assert "accept" not in open_moves(road_complaint, Actor.for_user(resident))
    assert open_moves(road_complaint, staff_actor("dishub.staf")) & {"accept", "reply", "transfer"} == set()
    transition(road_complaint, "accept", actor=staff_actor("pupr.staf"))
    assert {"start", "resolve"} <= open_moves(road_complaint, staff_actor("pupr.staf"))
    assert "accept" not in open_moves(road_complaint, staff_actor("pupr.staf"))
