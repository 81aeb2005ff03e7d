"""The committed SDL is what the code serves: regenerate it with `make schema` after changing the API."""

from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_is_current(tmp_path):
    fresh = tmp_path / "schema.graphql"
    call_command("graphql_schema", out=str(fresh), stdout=open(tmp_path / "log", "w"))  # noqa: SIM115
    assert fresh.read_text() == (ROOT / "schema.graphql").read_text(), "schema.graphql is stale: run `make schema`"
