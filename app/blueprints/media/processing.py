"""Making the served copies of a photo: orientation applied, a display copy and a thumbnail, EXIF gone.

`process_blob` is the unit of work the `media` job runs (and the upload runs itself for small
photos). The truth is the blob row: it is locked, checked to be still pending, and the copies are
made and recorded once; a duplicate or late job finds it ready, or locked, and does nothing.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from PIL import Image, ImageOps
from sqlalchemy import select

from app.blueprints.media import evidence, validation  # noqa: F401  (validation registers the HEIF opener)
from app.blueprints.media.models import MediaBlob, MediaItem, ProcessingState
from app.blueprints.media.storage import get_storage, keys, settings, temp_dir
from app.common.models import utcnow
from app.database import unit_of_work
from app.extensions import db

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
DERIVED_CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}
VARIANTS = ("display", "thumbnail")


def _flatten(image: Image.Image, fmt: str) -> Image.Image:
    """RGB for JPEG (transparency on white); WebP keeps an alpha channel if the photo had one."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        if fmt == "webp":
            return rgba
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _save(image: Image.Image, path: Path, fmt: str, icc_profile: bytes | None) -> None:
    # Only what is passed here is written: no exif=, no xmp=, and no comment (Pillow would copy the
    # source's from `info`), so no EXIF (GPS, device, time) and no hidden text leaves.
    image.info = {}
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "webp":
        image.save(path, format="WEBP", quality=82, method=4, **options)
    else:
        image.save(path, format="JPEG", quality=85, optimize=True, progressive=True, **options)


def render(source: Path, out_dir: Path, *, display_px: int, thumbnail_px: int, fmt: str) -> dict[str, Path]:
    """Write display and thumbnail copies of `source` into `out_dir`; return their paths."""
    with Image.open(source, formats=list(validation.PIL_FORMATS)) as image:
        if image.format == "JPEG":
            image.draft("RGB", (display_px, display_px))  # decode at a reduced scale when far larger
        icc_profile = image.info.get("icc_profile")
        oriented = ImageOps.exif_transpose(image)
        oriented = _flatten(oriented, fmt)
    display = oriented.copy()
    display.thumbnail((display_px, display_px), Image.Resampling.LANCZOS)
    thumbnail = display.copy()
    thumbnail.thumbnail((thumbnail_px, thumbnail_px), Image.Resampling.LANCZOS)
    paths = {}
    for variant, image in (("display", display), ("thumbnail", thumbnail)):
        paths[variant] = out_dir / f"{variant}.{fmt}"
        _save(image, paths[variant], fmt, icc_profile)
    return paths


@contextmanager
def local_original(tenant_id: int, sha256: str) -> Iterator[Path]:
    """The original as a local file: the stored file itself, or a temporary download from S3."""
    storage = get_storage()
    key = keys.original(tenant_id, sha256)
    path = storage.local_path(key)
    if path is not None:
        yield path
        return
    with tempfile.NamedTemporaryFile(dir=temp_dir(), prefix="fetch-") as handle:
        for chunk in storage.iter_bytes(key):
            handle.write(chunk)
        handle.flush()
        yield Path(handle.name)


def process_blob(*, tenant_id: int, sha256: str) -> str:
    """Make the served copies of one blob, once. Returns what happened (for logs and the job's result)."""
    s = settings()
    storage = get_storage()
    fmt = "webp" if s.media_derived_format == "webp" else "jpeg"
    with unit_of_work():
        blob = db.session.execute(
            select(MediaBlob).where(MediaBlob.tenant_id == tenant_id, MediaBlob.sha256 == sha256)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)).scalar_one_or_none()
        if blob is None:
            return "busy_or_missing"  # another job holds it, or nothing to do
        if blob.state != ProcessingState.PENDING:
            return f"already_{blob.state}"
        blob.attempts += 1
        work = Path(tempfile.mkdtemp(dir=temp_dir(), prefix="derive-"))
        try:
            with local_original(tenant_id, sha256) as source:
                paths = render(source, work, display_px=s.media_display_px, thumbnail_px=s.media_thumbnail_px,
                               fmt=fmt)
            for variant, path in paths.items():
                storage.put_file(keys.derived(tenant_id, sha256, variant, fmt), path, DERIVED_CONTENT_TYPES[fmt])
            blob.display_bytes = paths["display"].stat().st_size
            blob.thumbnail_bytes = paths["thumbnail"].stat().st_size
            blob.derived_format, blob.state, blob.processed_at = fmt, ProcessingState.READY.value, utcnow()
            blob.last_error = None
        except Exception as error:  # recorded on the row; the sweep retries until MAX_ATTEMPTS
            log.warning("media processing failed", extra={"tenant_id": tenant_id, "sha256": sha256}, exc_info=True)
            blob.last_error = f"{type(error).__name__}: {error}"[:500]
            if blob.attempts >= MAX_ATTEMPTS:
                blob.state = ProcessingState.FAILED.value
        finally:
            shutil.rmtree(work, ignore_errors=True)
        refresh_flags(blob)
        return blob.state


def refresh_flags(blob: MediaBlob) -> None:
    """Record the evidence flags of every item showing this blob, as they stand now."""
    s = settings()
    for item in db.session.execute(select(MediaItem).where(MediaItem.sha256 == blob.sha256)).scalars():
        found = evidence.evaluate(item, blob, skew_minutes=s.media_capture_skew_minutes,
                                  max_distance_m=s.media_gps_distance_m)
        item.flags, item.flags_checked_at = found.flags, utcnow()
