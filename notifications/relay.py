"""The outbox relay: a thread of every Celery worker that LISTENs on PostgreSQL's `simpul_outbox` channel and
delivers the rows each committed change names (notifications.delivery). Live messages leave from here within
milliseconds of the COMMIT; pushes go to the worker pool as tasks, so a slow FCM never holds the next change's
live messages.

On (re)connecting it first delivers whatever is due, so rows written while no relay listened (every worker down,
PostgreSQL restarted) go out then; the beat sweep covers the rest. Several workers each run a relay: all hear every
notification, and the claim (SKIP LOCKED) gives each row to one of them.

The relay never waits on Redis per change: live sends skip a channel layer known to be away (breaker.CHANNEL_LAYER;
those rows are retried, and replayed to subscribers that reconnect), and pushes are handed to the worker pool by a
thread of their own (PushHandoff), which sends them itself while the broker is away, so phones are still reached
during a Redis outage."""

from __future__ import annotations

import logging
import queue
import threading

import psycopg
from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections, connection, connections
from kombu.exceptions import OperationalError

from backend import breaker
from backend.cases import outbox
from notifications import delivery, tasks

logger = logging.getLogger("simpul.notifications")

RECONNECT_SECONDS = (0.5, 1, 2, 5)  # waits between attempts to reach PostgreSQL again, the last repeated


class PushHandoff:
    """Hands pushes the relay queued to the worker pool (a Celery task) from a thread of its own, so the relay's live
    path never waits on the broker. While the broker is away (breaker.BROKER) this thread sends them itself. Never
    raises: pushes that fail here are pending rows, and the sweep sends them."""

    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> PushHandoff:
        self._thread = threading.Thread(target=self._run, name="push-handoff", daemon=True)
        self._thread.start()
        return self

    def put(self, ids: list[int]) -> None:
        self._queue.put(ids)

    def stop(self, timeout: float = 10) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while (ids := self._queue.get()) is not None:
                self.hand_off(ids)
        finally:
            connections.close_all()

    @staticmethod
    def hand_off(ids: list[int]) -> None:
        if breaker.BROKER.available():
            try:
                tasks.send_pushes.apply_async(args=[ids], retry=False)
            except OperationalError as exc:
                breaker.BROKER.failed(exc)
            else:
                breaker.BROKER.succeeded()
                return
        close_old_connections()
        try:
            delivery.send_pushes(ids)
        except Exception:
            logger.exception("Pushes %s left for the sweep", ids)
            connection.close()


class OutboxRelay:
    def __init__(self, *, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds  # how often the listening loop looks at the stop flag
        self.listening = threading.Event()  # set while LISTEN is in place (tests, health)
        self.pushes = PushHandoff()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> OutboxRelay:
        self.pushes.start()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.pushes.stop(timeout)

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    with psycopg.connect(**_listen_params(), autocommit=True) as listener:
                        listener.execute(f"LISTEN {outbox.CHANNEL}")
                        self.listening.set()
                        failures = 0
                        self.deliver_due()
                        self._listen(listener)
                except psycopg.Error as exc:  # the connection broke (PostgreSQL restarted, the backend was ended)
                    self.listening.clear()
                    wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                    failures += 1
                    logger.warning("Outbox relay lost PostgreSQL (%s); listening again in %s s", exc, wait)
                    self._stop.wait(wait)
        finally:
            self.listening.clear()
            connections.close_all()

    def _listen(self, listener: psycopg.Connection) -> None:
        """Wait for a notification, then take every other one that arrived meanwhile too: under load, one delivery
        for many commits (a fan-out of many rows costs little more than of one) instead of a queue of small ones."""
        while not self._stop.is_set():
            notes = list(listener.notifies(timeout=self.poll_seconds, stop_after=1))
            if not notes:
                continue
            notes += listener.notifies(timeout=0)
            ids = [pk for note in notes if note.channel == outbox.CHANNEL for pk in note.payload.split(",") if pk]
            for start in range(0, len(ids), delivery.LIMIT):
                self.deliver(ids[start : start + delivery.LIMIT])

    def deliver(self, ids: list[str] | None) -> int:
        """Deliver the named rows (or, with None, every due row): live from this thread, pushes through the hand-off.
        Never raises: what fails here stays pending for the next attempt (the sweep)."""
        close_old_connections()
        try:
            delivered = delivery.deliver(ids)
        except Exception:
            logger.exception("Outbox relay could not deliver %s; left to the sweep", ids or "the due rows")
            connection.close()
            return 0
        if delivered.pushes_queued:
            self.pushes.put(delivered.pushes_queued)
        return delivered.claimed

    def deliver_due(self) -> None:
        while self.deliver(None) and not self._stop.is_set():
            pass


def _listen_params() -> dict:
    """Connection parameters of the default database for a plain psycopg connection of the relay's own."""
    params = connection.get_connection_params()
    for django_only in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(django_only, None)
    return params


class OutboxRelayStep(bootsteps.StartStopStep):
    """A worker's step (backend.celery): the relay runs beside the pool when OUTBOX_RELAY is on."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.relay = None

    def start(self, worker):
        if settings.OUTBOX_RELAY:
            self.relay = OutboxRelay().start()

    def stop(self, worker):
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
