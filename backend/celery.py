"""The Celery application: the same image runs the ASGI server, the worker and beat (docs/deploy.md)."""

import os
import sys
from pathlib import Path

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

if Path(sys.argv[0]).name == "celery":
    # A worker or beat process: a broken configuration or an unreachable service ends it with one message.
    from backend.startup import setup_django_or_exit

    setup_django_or_exit(check_services=True)

app = Celery("simpul")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class OutboxRelayStep(bootsteps.StartStopStep):
    """Every worker runs the outbox relay (notifications.relay) beside its pool, when OUTBOX_RELAY is on."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.relay = None

    def start(self, worker):
        from django.conf import settings

        if settings.OUTBOX_RELAY:
            from notifications.relay import OutboxRelay

            self.relay = OutboxRelay().start()

    def stop(self, worker):
        if self.relay is not None:
            self.relay.stop()
            self.relay = None


app.steps["worker"].add(OutboxRelayStep)
