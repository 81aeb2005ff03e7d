"""The per-process circuit breakers (backend.breaker), on a clock the test controls (their cooldown is short)."""

from __future__ import annotations

import threading
import time

from backend.breaker import Breaker


def test_after_a_failure_callers_skip_the_service_until_one_probes_it_again():
    breaker = Breaker("a service", cooldown=0.2)
    assert breaker.available()
    breaker.failed(ConnectionError("refused"))
    assert not breaker.available() and not breaker.available()
    time.sleep(0.25)
    assert breaker.available()  # this caller probes
    assert not breaker.available()  # the others keep to their fallback while it does
    breaker.failed(ConnectionError("still refused"))
    assert not breaker.available()
    time.sleep(0.25)
    assert breaker.available()
    breaker.succeeded()
    assert breaker.available() and breaker.available()


def test_one_probe_among_many_threads():
    breaker = Breaker("a service", cooldown=0.1)
    breaker.failed(ConnectionError("refused"))
    time.sleep(0.15)
    answers = []
    barrier = threading.Barrier(16)

    def ask():
        barrier.wait()
        answers.append(breaker.available())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 1


def test_an_outage_is_logged_once_and_its_end_once(caplog):
    breaker = Breaker("a service", cooldown=0.05)
    with caplog.at_level("WARNING", logger="simpul.outage"):
        for _ in range(5):
            breaker.failed(ConnectionError("refused"))
        breaker.succeeded()
        breaker.succeeded()
    assert [r.getMessage() for r in caplog.records] == [
        "a service unreachable, using the fallback for now: refused",
        "a service reachable again",
    ]
