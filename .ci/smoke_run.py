"""Smoke test of the README quick start: `make run` serves the demo, and a newcomer can sign in.

Starts `make run` (twice: seeding must be idempotent) on a spare port with a fresh data folder, waits for /readyz,
queries regions, signs in the demo resident with the one-time code read from the server's log and the demo staff
with their password, asks `me`, opens GraphiQL's page and its files, and stops the server. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SMOKE_PORT", "18080"))
BASE = f"http://127.0.0.1:{PORT}"


def http(path: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        BASE + path,
        data=data,
        headers=headers,
        method="POST" if data else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def check(condition, detail) -> None:
    if not condition:
        raise SystemExit(f"smoke: failed: {detail}")


def graphql(query: str, variables: dict | None = None, token: str | None = None) -> dict:
    status, payload = http("/graphql", {"query": query, "variables": variables or {}}, token)
    if status != 200 or "errors" in payload:
        raise SystemExit(f"smoke: GraphQL failed ({status}): {payload}")
    return payload["data"]


class Server:
    def __init__(self, data_dir: str, log_path: Path):
        self.data_dir, self.log_path = data_dir, log_path

    def __enter__(self):
        self.log = open(self.log_path, "w")
        env = {**os.environ, "SIMPUL_DATA_DIR": self.data_dir, "PORT": str(PORT)}
        self.process = subprocess.Popen(
            ["make", "run", f"PORT={PORT}"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 600  # the first run installs the virtualenv
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"smoke: make run exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                status, body = http("/readyz")
                if status == 200:
                    print(f"smoke: ready: {body}")
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit("smoke: the server did not become ready")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


def exercise(log_path: Path) -> None:
    regions = graphql("{ regions { edges { node { code name agencies { shortName } } } } }")["regions"]["edges"]
    check([r["node"]["code"] for r in regions] == ["16.06", "73.72"], regions)
    sent = graphql('mutation { requestOtp(phone: "081200000001") { phone errors { code } } }')["requestOtp"]
    check(sent["errors"] == [], sent)
    code = None
    for _ in range(20):
        found = re.findall(r"SMS to \+6281200000001: \D*(\d{6})", log_path.read_text())
        if found:
            code = found[-1]
            break
        time.sleep(0.25)
    check(code, "smoke: the one-time code did not appear in the log")
    signed = graphql(
        'mutation($c: String!) { verifyOtp(phone: "+6281200000001", code: $c) { accessToken errors { code } } }',
        {"c": code},
    )["verifyOtp"]
    check(signed["errors"] == [], signed)
    me = graphql("{ me { phone fullName } }", token=signed["accessToken"])["me"]
    check(me == {"phone": "+6281200000001", "fullName": "Budi Santoso"}, me)
    staff = graphql(
        'mutation { signIn(login: "pupr.staf", password: "simpul-demo-2026") { accessToken errors { code } } }'
    )["signIn"]
    me = graphql("{ me { username memberships { role agency { shortName } } } }", token=staff["accessToken"])["me"]
    check(me["memberships"] == [{"role": "AGENCY_STAFF", "agency": {"shortName": "DPUPR"}}], me)
    status, _body = http("/healthz")
    check(status == 200, "healthz")
    graphiql()


def graphiql() -> None:
    """GraphiQL's page names files of the deployment only (no CDN), and each of them is served."""
    request = urllib.request.Request(BASE + "/graphql", headers={"Accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    check('<div id="editor">' in page, "GraphiQL's page")
    links = re.findall(r'(?:src|href)="([^"]+)"', page)
    check(links and all(link.startswith("/static/") for link in links), f"GraphiQL loads from elsewhere: {links}")
    for link in links:
        with urllib.request.urlopen(BASE + link, timeout=10) as response:
            check(response.status == 200 and response.read(), f"{link} is not served")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="simpul-smoke-") as data_dir:
        log_path = Path(data_dir) / "server.log"
        for attempt in (1, 2):
            with Server(data_dir, log_path):
                exercise(log_path)
            print(f"smoke: make run #{attempt} OK")
    print("smoke: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
