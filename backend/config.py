"""Reading settings from the environment, and the start-up checks of a production configuration.

Every setting has an embedded default that suits the single-machine development mode (`make run`). Production mode
(`SIMPUL_ENV=production`) refuses those defaults where they would be unsafe and reports *all* problems at once, as one
readable message, instead of a traceback about the first one.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(Exception):
    """The configuration cannot run. The message lists every problem, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Simpul cannot start; fix the configuration:\n{lines}")


class Env:
    """Typed access to environment variables that remembers what was wrong instead of raising at once."""

    def __init__(self, environ: dict[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        self.problems: list[str] = []

    def str(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default)

    def bool(self, name: str, default: bool) -> bool:
        raw = self.environ.get(name)
        if raw is None:
            return default
        word = raw.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        self.problems.append(f"{name} must be true or false, not {raw!r}")
        return default

    def int(self, name: str, default: int, *, minimum: int | None = None) -> int:
        raw = self.environ.get(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            self.problems.append(f"{name} must be a whole number, not {raw!r}")
            return default
        if minimum is not None and value < minimum:
            self.problems.append(f"{name} must be at least {minimum}, not {value}")
            return default
        return value

    def list(self, name: str, default: list[str] | None = None) -> list[str]:
        raw = self.environ.get(name)
        if raw is None:
            return list(default or [])
        return [item.strip() for item in raw.split(",") if item.strip()]

    def path(self, name: str, default: Path) -> Path:
        raw = self.environ.get(name)
        return Path(raw).expanduser().resolve() if raw else default

    def require(self, name: str, why: str) -> str:
        value = self.environ.get(name, "").strip()
        if not value:
            self.problems.append(f"{name} is required in production ({why})")
        return value


def default_data_dir() -> Path:
    """Where the embedded default keeps its SQLite file and uploads: outside the code tree, per user."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "simpul"


def describe_url(url: str) -> str:
    """A URL with its password removed, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
