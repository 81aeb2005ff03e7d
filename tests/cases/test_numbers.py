"""Tracking numbers and primary keys taken ahead in blocks per process (cases.opening._next_tracking_code,
_next_keys), and an opening written in one statement once they are there."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.cases import opening
from backend.cases.models import Case, CaseKind, TrackingSequence
from tests.helpers import complaint_input

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="blocks are taken on PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


FILE = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  created case { trackingCode } errors { code } } }"""


def take_codes(region, count: int) -> list[str]:
    return [opening._next_tracking_code(region, CaseKind.COMPLAINT, timezone.now()) for _ in range(count)]


def numbers(codes: list[str]) -> list[int]:
    return [int(code.rsplit("-", 1)[1]) for code in codes]


def counter(region) -> int:
    return TrackingSequence.objects.get(region=region, prefix="ADU").last_value


def test_a_quiet_region_gets_its_numbers_one_at_a_time_in_order(demo, monkeypatch):
    monkeypatch.setattr(opening, "BLOCK_SECONDS", 0.0)  # no block outlasts a moment: one number per statement
    region = demo["muba"]
    assert numbers(take_codes(region, 3)) == [1, 2, 3]
    assert counter(region) == 3  # nothing held back


def test_a_busy_region_takes_numbers_in_blocks_and_never_one_twice(demo):
    region = demo["muba"]
    with CaptureQueriesContext(connection) as queries:
        mine = take_codes(region, 100)
    assert numbers(mine) == sorted(numbers(mine)) and len(set(mine)) == 100
    assert len(queries) < 12  # blocks of 1, 2, 4… up to BLOCK_MAX at this rate: a handful of statements

    def worker(_n):
        try:
            return take_codes(region, 25)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        theirs = [code for batch in pool.map(worker, range(8)) for code in batch]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # a forked worker starts without its parent's blocks
        try:
            connections["default"].connection = None  # the parent's connection is the parent's
            os.write(write, ",".join(take_codes(region, 25)).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 65536).decode().split(",")
    os.waitpid(pid, 0)
    everything = mine + theirs + child
    assert len(everything) == 325 and len(set(everything)) == 325
    assert max(numbers(everything)) <= counter(region)


def test_inside_a_transaction_numbers_come_straight_from_the_counter(demo):
    region = demo["muba"]
    with transaction.atomic():
        assert numbers(take_codes(region, 2)) == [1, 2]
        transaction.set_rollback(True)
    assert not TrackingSequence.objects.filter(region=region).exists()  # given back with the rollback
    assert not any(key[0] == region.pk for key in opening._blocks)  # and none kept by the process
    assert numbers(take_codes(region, 1)) == [1]


def test_keys_come_in_blocks_and_a_forked_child_takes_its_own(demo):
    with CaptureQueriesContext(connection) as queries:
        taken = [opening._next_keys(2) for _ in range(100)]
    cases = [case for case, _events in taken]
    events = [event for _case, events in taken for event in events]
    assert len(set(cases)) == 100 and len(set(events)) == 200
    assert len(queries) <= 5  # KEY_BLOCK at a time, both sequences in one statement
    held = set(opening._keys["case"])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            connections["default"].connection = None
            os.write(write, ",".join(str(opening._next_keys(1)[0]) for _ in range(3)).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = {int(key) for key in os.read(read, 4096).decode().split(",")}
    os.waitpid(pid, 0)
    assert len(child) == 3 and not child & (held | set(cases))


def test_a_submission_is_one_statement_besides_the_session(gql, places, category, resident, settings):
    """Outside a transaction, once this process holds numbers and keys, filing a complaint reads the session and
    writes everything (after checking the idempotency key and the region) in one statement, which also tells the
    outbox relay (production's way; the other tests deliver in-process)."""
    settings.OUTBOX_RELAY = True
    gql.sign_in_as(resident)
    rubbish = category("sampah")

    def submit(**extra):  # what an app asks back when it files (the benchmark's mutation)
        return gql(FILE, {"input": complaint_input(rubbish, *places["lais"], **extra)})["submitComplaint"]

    for _ in range(3):  # blocks taken and grown; the region cached
        assert submit()["errors"] == []
    with CaptureQueriesContext(connection) as queries:
        result = submit(idempotencyKey="one-statement")
    assert result["errors"] == []
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "WITH"], [q["sql"][:400] for q in queries]
    assert "pg_notify" in queries[1]["sql"]
    assert queries[1]["sql"].startswith("WITH guard AS (SELECT NOT EXISTS")
    again = submit(idempotencyKey="one-statement")  # refused by the statement's guard: the same case back
    assert again["created"] is False and again["case"]["trackingCode"] == result["case"]["trackingCode"]
    assert Case.objects.filter(resident=resident, idempotency_key="one-statement").count() == 1


def test_threads_of_one_process_share_the_blocks(demo):
    region = demo["muba"]
    seen: list[str] = []
    lock = threading.Lock()

    def worker():
        try:
            got = take_codes(region, 20)
            with lock:
                seen.extend(got)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 120 and len(set(seen)) == 120
