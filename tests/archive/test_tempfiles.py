"""Which temporary files are crash leftovers: older than the looking process and locked
by nobody (archive/tempfiles.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from archive.tempfiles import clean_leftovers, find_leftovers, held


def _old(path: Path, data: bytes = b"x" * 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (time.time() - 60, time.time() - 60))
    return path


def test_only_old_unlocked_files_are_leftovers_and_cleaning_keeps_the_work_folders(
        tmp_path: Path):
    tmp, objects_tmp = tmp_path / "tmp", tmp_path / "objects" / ".tmp"
    dead = _old(tmp / "upload-dead", b"d" * 1000)
    dead_put = _old(objects_tmp / "tmpabc", b"p" * 500)
    live = _old(tmp / "upload-live")
    dead_export = _old(tmp / "exports" / "tmpwork" / "pack.zip.part", b"z" * 7)
    live_export = _old(tmp / "exports" / "tmplive" / "data.pdf")
    cutoff = time.time() - 30
    young = tmp / "upload-young"
    young.write_bytes(b"y")                          # newer than the looking process
    with held(live), held(live_export.parent):
        found = {f.path: f.size for f in find_leftovers([tmp, objects_tmp],
                                                         older_than=cutoff)}
        assert found == {dead: 1000, dead_put: 500, dead_export: 7}
        assert clean_leftovers([tmp, objects_tmp], older_than=cutoff) == (3, 1507)
    assert not dead.exists() and not dead_put.exists() and not dead_export.parent.exists()
    assert live.exists() and live_export.exists() and young.exists()
    assert (tmp / "exports").is_dir() and objects_tmp.is_dir()
