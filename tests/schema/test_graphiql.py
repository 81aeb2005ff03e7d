"""GraphiQL (`make run`, DEBUG) works on a network without internet: its files come from the npm registry at install
time (assets.json, tools/fetch_assets.py) and are served by the deployment; a real Chromium that may reach nothing
but the server loads the page and runs a query. The fetcher refuses a tarball that is not the one pinned."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
from base64 import b64encode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from graphene_django.views import GraphQLView

from tests.live import ROOT, daphne, free_port, needs_services
from tools import fetch_assets

CHROMIUM = Path("/usr/bin/chromium")
MANIFEST = json.loads((ROOT / "assets.json").read_text())["packages"]


def test_graphiql_assets_are_the_versions_graphene_django_expects():
    """graphene-django's graphiql.js is written against these versions; an upgrade of it shows here."""
    expected = {
        "graphiql": GraphQLView.graphiql_version,
        "@graphiql/plugin-explorer": GraphQLView.graphiql_plugin_explorer_version,
        "react": GraphQLView.react_version,
        "react-dom": GraphQLView.react_version,
        "graphql-ws": GraphQLView.subscriptions_transport_ws_version,
        "whatwg-fetch": GraphQLView.whatwg_fetch_version,
    }
    assert {name: MANIFEST[name]["version"] for name in expected} == expected


def test_the_template_names_only_files_of_the_deployment():
    template = (ROOT / "templates" / "graphene" / "graphiql.html").read_text()
    assert "http://" not in template and "https://" not in template
    taken = {f"vendor/{name}/{target}" for name, package in MANIFEST.items() for target in package["files"].values()}
    named = {line.split("'")[1] for line in template.splitlines() if "{% static 'vendor/" in line}
    assert named and named <= taken


# --- the fetcher, against a registry of the test's own ------------------------------------------------------------


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def integrity(data: bytes) -> str:
    return "sha512-" + b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry():
    """An npm registry serving the tarballs the test puts in `registry.tarballs` (URL path → bytes)."""
    tarballs: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = tarballs.get(self.path)
            self.send_response(200 if data is not None else 404)
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.tarballs = tarballs
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


def manifest_of(name: str, data: bytes, files: dict[str, str], *, pinned: str | None = None) -> dict:
    return {"packages": {name: {"version": "1.0.0", "integrity": pinned or integrity(data), "files": files}}}


def test_fetch_takes_the_listed_files_and_drops_a_dangling_source_map(registry, tmp_path):
    data = tarball(
        {
            "dist/app.min.js": b"window.x=1;\n//# sourceMappingURL=app.min.js.map\n",
            "dist/app.css": b"a{color:red}\n/*# sourceMappingURL=app.css.map */\n",
            "dist/app.css.map": b"{}",
            "dist/other.js": b"not taken",
        }
    )
    registry.tarballs["/@scope/app/-/app-1.0.0.tgz"] = data
    files = {"dist/app.min.js": "app.min.js", "dist/app.css": "app.css", "dist/app.css.map": "app.css.map"}
    target = tmp_path / "assets"
    assert fetch_assets.fetch(registry.url, manifest_of("@scope/app", data, files), target)
    taken = target / "@scope" / "app"
    assert (taken / "app.min.js").read_bytes() == b"window.x=1;\n"  # its map is not taken: the comment goes
    assert (taken / "app.css").read_bytes() == b"a{color:red}\n/*# sourceMappingURL=app.css.map */\n"  # kept
    assert not (taken / "other.js").exists()
    assert not fetch_assets.fetch(registry.url, manifest_of("@scope/app", data, files), target)  # already there


@pytest.mark.parametrize(
    ("problem", "message"),
    [("tampered", "pins"), ("missing file", "no dist/gone.js"), ("not found", "404"), ("escapes", "outside")],
)
def test_fetch_refuses_and_keeps_what_was_there(registry, tmp_path, problem, message):
    data = tarball({"dist/a.js": b"a"})
    registry.tarballs["/a/-/a-1.0.0.tgz"] = data
    target = tmp_path / "assets"
    assert fetch_assets.fetch(registry.url, manifest_of("a", data, {"dist/a.js": "a.js"}), target)
    files, pinned = {"dist/a.js": "a.js"}, None
    if problem == "tampered":
        pinned = integrity(b"something else")
    elif problem == "missing file":
        files = {"dist/gone.js": "gone.js"}
    elif problem == "not found":
        registry.tarballs.clear()
    else:
        files = {"dist/a.js": "../../outside.js"}
    manifest = manifest_of("a", data, files, pinned=pinned)
    manifest["packages"]["a"]["note"] = problem  # a different manifest: the fetcher must not skip it
    with pytest.raises((fetch_assets.AssetError, OSError)) as raised:
        fetch_assets.fetch(registry.url, manifest, target)
    assert message in str(raised.value)
    assert (target / "a" / "a.js").read_bytes() == b"a"
    assert not (tmp_path / "outside.js").exists()
    assert [path.name for path in tmp_path.iterdir()] == ["assets"]  # no staging folder left behind


# --- GraphiQL in a real browser that can reach nothing but the server ---------------------------------------------


@needs_services
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (.ci/run installs it)")
@pytest.mark.django_db(transaction=True)
def test_graphiql_runs_a_query_without_internet(demo, tmp_path):
    from playwright.sync_api import sync_playwright

    server = daphne(free_port(), tmp_path / "daphne.log", DJANGO_DEBUG="true")
    outside = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page()

            def only_the_server(route):
                if route.request.url.startswith(f"http://{server.host}/"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_the_server)
            errors = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"http://{server.host}/graphql?query=" + "{ regions { edges { node { code } } } }")
            page.locator(".graphiql-execute-button").click()
            page.locator(".result-window").get_by_text('"16.06"').wait_for(timeout=15_000)
            browser.close()
    finally:
        server.stop()
    assert outside == [] and errors == []
