"""The Celery application: the same image runs the ASGI server, the worker and beat (docs/deploy.md)."""

import os
import sys
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

if Path(sys.argv[0]).name == "celery":
    # A worker or beat process: a broken configuration or an unreachable service ends it with one message.
    from backend.startup import setup_django_or_exit

    setup_django_or_exit(check_services=True)

app = Celery("simpul")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Every worker runs the outbox relay beside its pool (notifications.relay.OutboxRelayStep, named here and loaded by
# the worker: this module imports nothing that sends tasks, so the app, the relay and the tasks form no circle).
app.steps["worker"].add("notifications.relay:OutboxRelayStep")
