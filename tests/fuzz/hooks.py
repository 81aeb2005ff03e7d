"""Schemathesis hooks for the GraphQL fuzz run (tests/fuzz/test_graphql.py): what counts as a failure here, and how
to write the one scalar schemathesis cannot make up.

A typed refusal (`extensions.code` FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, …) is the API working; schemathesis's own
GraphQL check counts every error as a failure, so it is replaced by `no_internal_error`: an HTTP 5xx, a body that
is not JSON, or an error whose code is INTERNAL_SERVER_ERROR (the server caught something it did not expect)."""

from __future__ import annotations

import schemathesis
from graphql.language import StringValueNode
from hypothesis import strategies as st


@schemathesis.check
def no_internal_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {response.content[:200]!r}") from None
    internal = [
        e for e in body.get("errors") or [] if (e.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]
    if internal:
        raise AssertionError(f"INTERNAL_SERVER_ERROR at {internal[0].get('path')}")


# Files travel in multipart requests (schema/uploads.py), which a literal in a document cannot be: a string in their
# place is refused, which is what is tested here.
schemathesis.graphql.scalar("Upload", st.text(max_size=20).map(lambda text: StringValueNode(value=text)))
