"""The client's file name never becomes a path: storage keys come from the tenant and sha256 only."""
from __future__ import annotations

import re

import pytest

from tests.media_support import District, district, jpeg, media_root, stored_files, upload  # noqa: F401

KEY = re.compile(r"^t/[0-9]+/[0-9a-f]{2}/[0-9a-f]{64}/(original|display\.jpg|thumbnail\.jpg)$")


@pytest.mark.parametrize("filename", ["../../../../tmp/evil.jpg", "..\\..\\..\\evil.jpg", "/etc/cron.d/evil.jpg",
                                      "t/1/00/evil/../../original", "evil\x00.jpg"])
def test_a_path_traversal_file_name_is_only_a_label(client, district: District, media_root, tmp_path, filename):
    response = upload(client, district, district.responder, jpeg(), filename=filename)
    assert response.status_code == 201, response.get_json()
    label = response.get_json()["filename"]
    assert label is None or ("/" not in label and "\\" not in label and "\x00" not in label)
    files = stored_files(media_root)
    assert files and all(KEY.match(name) for name in files), files  # and no temporary file left behind
    outside = [p for p in tmp_path.parent.rglob("evil*")] + [p for p in media_root.parent.rglob("evil*")]
    assert outside == []
