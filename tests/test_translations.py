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
