"""`make test` on the embedded default (SQLite) also runs the tests of the production write path (the opening's one
statement, tracking-code blocks, row locks between connections, the counters' commits) on PostgreSQL when one is
reachable, so a developer's machine tests what production runs. Prints the DATABASE_URL to use, or nothing.

The server is TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres); Django's test runner creates
and drops its own database there (test_<name>), never touching the one named."""

from __future__ import annotations

import os
import sys

URL = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def reachable(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


if __name__ == "__main__":
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit(0)  # the whole suite ran on PostgreSQL already
    if reachable(URL):
        print(URL)
    else:
        print(f"PostgreSQL is not reachable at {URL}: the write path was tested on SQLite only", file=sys.stderr)
