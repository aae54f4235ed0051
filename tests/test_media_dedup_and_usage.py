"""Identical uploads in one tenant are stored once (content addressed by sha256); the usage report says so."""
from __future__ import annotations

from tests.media_support import District, district, jpeg, media_root, stored_files, upload  # noqa: F401


def test_identical_uploads_are_stored_once_and_reported(client, district: District, media_root):
    d = district
    data = jpeg((800, 600))
    first = upload(client, d, d.liaison, data).get_json()
    second = upload(client, d, d.responder, data).get_json()
    other = upload(client, d, d.responder, jpeg((300, 200))).get_json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    assert len([f for f in stored_files(media_root) if f.endswith("/original")]) == 2
    usage = client.get(d.url("media", "usage"), headers=d.h(d.office))
    assert usage.status_code == 200, usage.get_json()
    report = usage.get_json()
    assert (report["items"], report["contents"], report["tenant_code"]) == (3, 2, d.tenant.code)
    assert report["original_bytes"] == len(data) + other["size_bytes"]
    assert report["uploaded_bytes"] == 2 * len(data) + other["size_bytes"]
    assert report["saved_by_deduplication_bytes"] == len(data)
    assert report["derived_bytes"] > 0 and report["pending"] == 0 and report["storage"] == "local"
