"""Takes the front-end files that assets.json names from the npm registry into var/assets/ (served as /static/vendor/),
at install time: `make run`, `make test` and the Docker build call it. Each package's tarball is checked against the
integrity hash pinned in assets.json before anything of it is written; a second run with the same assets.json does
nothing. Only Python's standard library: installing needs nothing but Python.

    python tools/fetch_assets.py [--registry URL]   (or NPM_REGISTRY: a mirror, e.g. the office's Verdaccio)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "assets.json"
TARGET = ROOT / "var" / "assets"
STAMP = ".assets.json"  # the manifest the files in TARGET were taken by
TIMEOUT_SECONDS = 60
# A source map comment (`//# sourceMappingURL=x.map` or `/*# sourceMappingURL=x.map*/`): where the map is not among the
# files taken, the comment is dropped, since a reference to a missing file fails collectstatic's hashing storage.
SOURCE_MAP = re.compile(rb"(?://|/\*)# sourceMappingURL=(?P<url>[^\s*]+)\s*(?:\*/)?\s*$")


class AssetError(Exception):
    pass


def tarball_url(registry: str, name: str, version: str) -> str:
    """Where the registry keeps a package's tarball: `<registry>/<name>/-/<name without scope>-<version>.tgz`."""
    return f"{registry.rstrip('/')}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def check_integrity(data: bytes, integrity: str, name: str) -> None:
    """Subresource Integrity as npm writes it (`sha512-<base64>`)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in {"sha256", "sha384", "sha512"}:
        raise AssetError(f"{name}: unsupported integrity {integrity!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise AssetError(f"{name}: the tarball's {algorithm} is {actual}, assets.json pins {expected}")


def extract(data: bytes, files: dict[str, str], into: Path, name: str) -> None:
    """The package's files (paths inside its `package/` folder) written under `into` by the names assets.json gives
    them; nothing else of the tarball is read out."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        members = {member.name.split("/", 1)[-1]: member for member in archive.getmembers() if member.isfile()}
        for source, target in files.items():
            member = members.get(source)
            if member is None:
                raise AssetError(f"{name}: no {source} in the package")
            destination = (into / target).resolve()
            if into.resolve() not in destination.parents:
                raise AssetError(f"{name}: {target} is outside its folder")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as source_file:
                content = source_file.read()
            destination.write_bytes(without_missing_map(content, target, set(files.values())))


def without_missing_map(content: bytes, name: str, taken: set[str]) -> bytes:
    """The file without its closing source-map comment if the map it names is not taken too."""
    if not name.endswith((".js", ".css")):
        return content
    found = SOURCE_MAP.search(content)
    if found is None:
        return content
    mapped = str(Path(name).parent / found["url"].decode(errors="replace"))
    return content if mapped.removeprefix("./") in taken else content[: found.start()].rstrip() + b"\n"


def fetch(registry: str, manifest: dict, target: Path = TARGET) -> bool:
    """Takes every package into `target`; False if `target` already holds what the manifest names."""
    stamp = target / STAMP
    wanted = json.dumps(manifest["packages"], sort_keys=True)
    if stamp.exists() and stamp.read_text() == wanted:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".assets-", dir=target.parent))
    try:
        for name, package in manifest["packages"].items():
            url = tarball_url(registry, name, package["version"])
            with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (https registry)
                data = response.read()
            check_integrity(data, package["integrity"], name)
            extract(data, package["files"], staging / name, name)
        (staging / STAMP).write_text(wanted)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)  # all or nothing: a failed run leaves the previous files
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registry", default=os.environ.get("NPM_REGISTRY") or "https://registry.npmjs.org")
    args = parser.parse_args(argv)
    manifest = json.loads(MANIFEST.read_text())
    try:
        fetched = fetch(args.registry, manifest)
    except (AssetError, OSError, tarfile.TarError) as exc:
        print(f"fetch_assets: {exc}", file=sys.stderr)
        return 1
    if fetched:
        print(f"fetch_assets: {len(manifest['packages'])} packages from {args.registry} in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
