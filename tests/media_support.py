"""Shared set-up for the media tests (test_media_*.py); this module holds no tests.

Photos are made in code with Pillow (no binary fixtures): JPEGs with EXIF orientation, GPS,
capture time and device; PNG, WebP and HEIC (pillow-heif). `media_root` gives each test a
storage directory of its own, so "no file was left" can be checked exactly.
"""
from __future__ import annotations

import dataclasses
import io
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.factories import TenantRef, assert_error, database_snapshot, snapshot_difference
from tests.test_instruction_support import District, district, make_incident  # noqa: F401  (fixtures)

EXIF_ORIENTATION, EXIF_MAKE, EXIF_MODEL = 0x0112, 0x010F, 0x0110
IFD_EXIF, IFD_GPS = 0x8769, 0x8825


def exif_bytes(*, orientation: int | None = None, gps: tuple[float, float] | None = None,
               taken_at: datetime | None = None, offset: str | None = None, make: str | None = None,
               model: str | None = None) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    if make:
        exif[EXIF_MAKE] = make
    if model:
        exif[EXIF_MODEL] = model
    if taken_at is not None:
        ifd = exif.get_ifd(IFD_EXIF)
        ifd[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        if offset:
            ifd[0x9011] = offset
    if gps is not None:
        lat, lon = gps
        ifd = exif.get_ifd(IFD_GPS)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    return exif.tobytes()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def photo(size=(640, 480), color=(30, 120, 200)) -> Image.Image:
    """A picture with structure (so that orientation can be checked): a red block in the top-left corner."""
    image = Image.new("RGB", size, color)
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg(size=(640, 480), **exif) -> bytes:
    return encode(photo(size), "JPEG", quality=90, **({"exif": exif_bytes(**exif)} if exif else {}))


def noisy_jpeg(size=(2000, 1500), seed: int = 1, quality: int = 95) -> bytes:
    """A photo-like JPEG of realistic size (random noise compresses like a phone photo's detail)."""
    import random

    rng = random.Random(seed)
    small = Image.frombytes("RGB", (size[0] // 4, size[1] // 4), rng.randbytes(size[0] // 4 * (size[1] // 4) * 3))
    return encode(small.resize(size, Image.Resampling.BILINEAR), "JPEG", quality=quality)


def heic(size=(640, 480), **exif) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return encode(photo(size), "HEIF", quality=80, **({"exif": exif_bytes(**exif)} if exif else {}))


@pytest.fixture
def media_root(app, tmp_path, monkeypatch) -> Path:
    """This test's own storage: local backend under tmp_path/media."""
    from app.blueprints.media.storage import LocalStorage

    root = tmp_path / "media"
    settings = app.extensions["liandong_settings"]
    monkeypatch.setitem(app.extensions, "liandong_settings", dataclasses.replace(settings, media_dir=root))
    monkeypatch.setitem(app.extensions, "liandong_media_storage", LocalStorage(root))
    return root


def set_media(app, monkeypatch, **changes) -> None:
    """Change MEDIA_* settings for one test (e.g. media_max_bytes=1000)."""
    settings = app.extensions["liandong_settings"]
    monkeypatch.setitem(app.extensions, "liandong_settings", dataclasses.replace(settings, **changes))


def stored_files(root: Path) -> list[str]:
    """Every file under the media root, temporary ones included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def media_url(d: District, *parts) -> str:
    return d.url("media", *parts)


def upload(client, d: District, user, data: bytes, *, media_id: uuid.UUID | str | None = None,
           instruction_id: int | None = None, filename: str = "photo.jpg", content_type: str = "image/jpeg",
           headers: dict | None = None):
    form = {"id": str(media_id or uuid.uuid4()), "file": (io.BytesIO(data), filename, content_type)}
    if instruction_id is not None:
        form["instruction_id"] = str(instruction_id)
    return client.post(media_url(d), data=form, content_type="multipart/form-data",
                       headers={**d.h(user), **(headers or {})})


class Nothing:
    """Snapshot the database and the media files; `assert_unchanged` after a refusal."""

    def __init__(self, owner_engine, root: Path):
        self.owner_engine, self.root = owner_engine, root
        self.db = database_snapshot(owner_engine)
        self.files = stored_files(root)

    def assert_unchanged(self):
        after = database_snapshot(self.owner_engine)
        assert after == self.db, snapshot_difference(self.db, after)
        assert stored_files(self.root) == self.files


def assert_refused(response, status: int, code: str, nothing: Nothing) -> dict:
    body = assert_error(response, status, code)
    nothing.assert_unchanged()
    return body


def make_media(app, tenant: TenantRef, *, uploader_user_id: int, instruction_id: int | None,
               data: bytes | None = None) -> str:
    """A processed photo of the tenant, attached to the instruction; returns its id. For the isolation
    matrix and the bad-input sweep: the id recipe of <media_id>."""
    import hashlib
    import tempfile

    from app.blueprints.media import processing, service, validation
    from app.blueprints.media.intake import Upload
    from app.blueprints.media.storage import temp_dir
    from app.blueprints.users.models import User
    from app.database import unit_of_work
    from app.extensions import db
    from app.tenants.context import tenant_scope

    data = data or jpeg(gps=(37.928, 102.641), make="HUAWEI", model="P60")
    media_id = uuid.uuid4()
    with app.app_context(), tenant_scope([tenant.id]):
        with tempfile.NamedTemporaryFile(dir=temp_dir(), delete=False) as handle:
            handle.write(data)
        received = Upload(path=Path(handle.name), size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                          filename="sample.jpg", declared_type="image/jpeg")
        try:
            inspected = validation.inspect(received.path, max_pixels=50_000_000)
            with unit_of_work():
                uploader = db.session.get(User, uploader_user_id)
                service._store(tenant.id, media_id, instruction_id, uploader, received, inspected)
            processing.process_blob(tenant_id=tenant.id, sha256=received.sha256)
        finally:
            received.discard()
    return str(media_id)
