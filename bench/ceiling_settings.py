"""Settings of the benchmark server: the application's, plus the ceiling views of bench/ceiling.py."""

from backend.settings import *  # noqa: F403

ROOT_URLCONF = "ceiling"
