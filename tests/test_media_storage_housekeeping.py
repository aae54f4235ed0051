"""The local store makes a write durable (file and directory fsynced), and the sweep removes temporary
files that a killed process left behind, once they are a day old."""
from __future__ import annotations

import os
import stat
import time

from tests.media_support import District, district, jpeg, media_root, stored_files, upload  # noqa: F401


def test_a_stored_file_and_its_directory_are_fsynced(client, district: District, media_root, monkeypatch):
    d = district
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    assert upload(client, d, d.responder, jpeg()).status_code == 201
    # Original, display and thumbnail: each file, then its directory after the rename.
    assert synced.count(False) == 3 and synced.count(True) == 3, synced


def test_the_sweep_removes_day_old_temp_files_only(app, client, district: District, media_root):
    from app.blueprints.media.jobs import sweep_media

    d = district
    body = upload(client, d, d.responder, jpeg()).get_json()
    tmp = media_root / "tmp"
    store_dir = next(p for p in (media_root / "t").rglob(body["sha256"]) if p.is_dir())
    old = [tmp / "upload-abc", tmp / "fetch-def", store_dir / ".partial-ghi"]
    (tmp / "derive-jkl").mkdir()
    (tmp / "derive-jkl" / "display.jpeg").write_bytes(b"x")
    old.append(tmp / "derive-jkl")
    fresh = [tmp / "upload-new", store_dir / ".partial-new"]
    unrelated = tmp / "notes.txt"
    for path in old[:3] + fresh + [unrelated]:
        path.write_bytes(b"x")
    day_and_more = time.time() - 25 * 3600
    for path in old + [unrelated]:
        os.utime(path, (day_and_more, day_and_more))
    with app.app_context():
        assert sweep_media()["media_temp_files_deleted"] == 4
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in fresh) and unrelated.exists()
    assert [f for f in stored_files(media_root) if f.endswith(("original", "display.jpg", "thumbnail.jpg"))]
