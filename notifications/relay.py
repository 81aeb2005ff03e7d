"""The outbox relay: a thread of every Celery worker that LISTENs on PostgreSQL's `simpul_outbox` channel and
delivers the rows each committed change names (notifications.delivery). Live messages leave from here within
milliseconds of the COMMIT; pushes go to the worker pool as tasks, so a slow FCM never holds the next change's
live messages.

On (re)connecting it first delivers whatever is due, so rows written while no relay listened (every worker down,
PostgreSQL restarted) go out then; the beat sweep covers the rest. Several workers each run a relay: all hear every
notification, and the claim (SKIP LOCKED) gives each row to one of them."""

from __future__ import annotations

import logging
import threading

import psycopg
from django.db import close_old_connections, connection, connections

from notifications import delivery

logger = logging.getLogger("simpul.notifications")

RECONNECT_SECONDS = (0.5, 1, 2, 5)  # waits between attempts to reach PostgreSQL again, the last repeated


class OutboxRelay:
    def __init__(self, *, poll_seconds: float = 1.0):
        self.poll_seconds = poll_seconds  # how often the listening loop looks at the stop flag
        self.listening = threading.Event()  # set while LISTEN is in place (tests, health)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> OutboxRelay:
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    with psycopg.connect(**_listen_params(), autocommit=True) as listener:
                        listener.execute(f"LISTEN {delivery.CHANNEL}")
                        self.listening.set()
                        failures = 0
                        self.deliver_due()
                        self._listen(listener)
                except psycopg.Error:  # the connection broke (PostgreSQL restarted, the backend was ended)
                    self.listening.clear()
                    wait = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                    failures += 1
                    logger.warning("Outbox relay lost PostgreSQL; listening again in %s s", wait, exc_info=True)
                    self._stop.wait(wait)
        finally:
            self.listening.clear()
            connections.close_all()

    def _listen(self, listener: psycopg.Connection) -> None:
        while not self._stop.is_set():
            for note in listener.notifies(timeout=self.poll_seconds):
                if note.channel == delivery.CHANNEL:
                    self.deliver([pk for pk in note.payload.split(",") if pk])
                if self._stop.is_set():
                    return

    def deliver(self, ids: list[str] | None) -> int:
        """Deliver the named rows (or, with None, every due row): live from this thread, pushes as worker tasks.
        Never raises: what fails here stays pending for the next attempt (the sweep)."""
        from notifications.tasks import send_pushes

        close_old_connections()
        try:
            delivered = delivery.deliver(ids)
        except Exception:
            logger.exception("Outbox relay could not deliver %s; left to the sweep", ids or "the due rows")
            connection.close()
            return 0
        if delivered.pushes_queued:
            try:
                send_pushes.apply_async(args=[delivered.pushes_queued], retry=False)
            except Exception:  # the broker is away: the pushes are pending rows, the sweep sends them
                logger.warning("Pushes %s left for the sweep", delivered.pushes_queued, exc_info=True)
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
