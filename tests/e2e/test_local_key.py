"""`make run`'s local API key (scripts/local_key.sh): created once, private to the user."""

from __future__ import annotations

import os
import stat
import subprocess

from conftest import ROOT


def _run(d) -> str:
    return subprocess.run(["bash", str(ROOT / "scripts" / "local_key.sh"), str(d)], check=True,
                          capture_output=True, text=True, env={**os.environ}).stdout.strip()


def test_key_file_is_0600_in_a_0700_folder_and_stable(tmp_path):
    d = tmp_path / "data"
    old = os.umask(0o022)  # a usual umask, under which plain redirection writes 0644
    try:
        key = _run(d)
        again = _run(d)
    finally:
        os.umask(old)
    assert key.startswith("aip_local_") and len(key) > 30 and again == key
    assert stat.S_IMODE((d / "local-api-key").stat().st_mode) == 0o600
    assert stat.S_IMODE(d.stat().st_mode) == 0o700


def test_an_existing_world_readable_key_is_tightened(tmp_path):
    d = tmp_path / "data"
    d.mkdir(mode=0o755)
    (d / "local-api-key").write_text("aip_local_existing-key-000000000000\n")
    os.chmod(d / "local-api-key", 0o644)
    assert _run(d) == "aip_local_existing-key-000000000000"
    assert stat.S_IMODE((d / "local-api-key").stat().st_mode) == 0o600
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
