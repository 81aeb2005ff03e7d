"""Start-up guard for servers and workers: a broken configuration ends the process with one clear message."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def setup_django_or_exit(*, check_services: bool) -> None:
    """Configure Django; on a configuration problem or (in production) an unreachable service, print and exit 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    from backend.config import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None

    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and database["NAME"] != ":memory:":
        Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    if not settings.PRODUCTION:
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise serves from finders beside it

    if check_services and settings.PRODUCTION:
        from backend.services_check import describe_failures, run_checks

        problems = describe_failures(run_checks())
        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            print(f"Simpul cannot start; a required service is down:\n{lines}", file=sys.stderr)
            raise SystemExit(2)
