"""The committed catalogues are complete and compiled: Bahasa Indonesia is the default language."""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def test_every_indonesian_string_is_translated():
    po = (LOCALE / "id/LC_MESSAGES/django.po").read_text()
    entries = re.findall(r'^msgid "(.*?)"\n((?:".*"\n)*)msgstr "(.*?)"\n((?:".*"\n)*)', po, flags=re.M)
    untranslated = [msgid + cont for msgid, cont, msgstr, more in entries[1:] if not (msgstr + more).strip('"\n')]
    assert entries and not untranslated
    assert "#, fuzzy" not in po


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_compiled_catalogue_matches_the_source(tmp_path):
    for language in ("id", "en"):
        source = LOCALE / language / "LC_MESSAGES/django.po"
        fresh = tmp_path / f"{language}.mo"
        subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(source)], check=True)
        committed = gettext.GNUTranslations(open(LOCALE / language / "LC_MESSAGES/django.mo", "rb"))  # noqa: SIM115
        compiled = gettext.GNUTranslations(open(fresh, "rb"))  # noqa: SIM115
        assert committed._catalog == compiled._catalog, f"run `make messages` ({language} .mo is stale)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext's xgettext is not installed")
def test_every_string_of_the_code_is_in_the_catalogue(tmp_path):
    """What `make messages` would add is already there: a new user-facing string cannot ship untranslated."""
    root = LOCALE.parent
    sources = sorted(
        str(path.relative_to(root))
        for folder in ("backend", "schema", "notifications", "media")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts
    )
    keywords = ["gettext", "gettext_lazy", "_", "pgettext:1c,2", "pgettext_lazy:1c,2", "ngettext:1,2"]
    pot = tmp_path / "code.pot"
    options = ["--language=Python", "--from-code=UTF-8", "-o", str(pot), *[f"--keyword={k}" for k in keywords]]
    subprocess.run(["xgettext", *options, *sources], cwd=root, check=True)
    wanted = set(_msgids(pot.read_text()))
    have = set(_msgids((LOCALE / "id/LC_MESSAGES/django.po").read_text()))
    assert wanted - have == set(), "run `make messages` and translate the new strings"


def _msgids(po: str) -> list[str]:
    return [
        (first + "".join(re.findall(r'"(.*)"', more))).replace('\\"', '"')
        for first, more in re.findall(r'^msgid "(.*)"\n((?:".*"\n)*)', po, flags=re.M)
        if first or more
    ]
