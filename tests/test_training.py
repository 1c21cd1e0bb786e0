"""The model is made only from what training reads: the deployment's settings are not in it."""

from __future__ import annotations

from bot import cli
from bot.content import DOMAIN_DIR
from bot.training import fingerprint


def test_region_nation_and_retention_leave_the_domain_and_the_model_unchanged(monkeypatch, domain):
    built = []
    try:
        for region, days, nation in (("uk", "30", "england"), ("ie", "45", "wales")):
            monkeypatch.setenv("TT_REGION", region)
            monkeypatch.setenv("TT_RETENTION_DAYS", days)
            monkeypatch.setenv("TT_NATION", nation)
            assert cli.main(["build"]) == 0
            files = {path.name: path.read_text(encoding="utf-8") for path in sorted(DOMAIN_DIR.glob("*.yml"))}
            built.append((files, fingerprint()))
    finally:  # leave var/domain as the other tests expect it
        monkeypatch.setenv("TT_REGION", "uk")
        monkeypatch.setenv("TT_RETENTION_DAYS", "30")
        monkeypatch.setenv("TT_NATION", "england")
        cli.main(["build"])

    (uk_files, uk_fingerprint), (ie_files, ie_fingerprint) = built
    assert uk_files == ie_files
    assert uk_fingerprint == ie_fingerprint
