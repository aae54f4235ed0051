"""Making the served copies of a photo: orientation applied, a display copy and a thumbnail, EXIF gone.

`process_blob` is the unit of work the `media` job runs (and the upload runs itself for small
photos). The truth is the blob row: a job claims it (pending → processing, the attempt counted and
committed), makes the copies with no lock held, and records them once; a duplicate or late job finds
it ready, or freshly claimed, and does nothing. A claim older than the job timeout is an attempt
whose worker died: the sweep makes it pending again, or failed after MAX_ATTEMPTS.
"""
from __future__ import annotations

import io
import logging
import math
import shutil
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Iterator

from PIL import Image
from sqlalchemy import select

from app.blueprints.media import evidence, validation  # noqa: F401  (validation registers the HEIF opener)
from app.blueprints.media.models import MediaBlob, MediaItem, ProcessingState
from app.blueprints.media.storage import get_storage, keys, settings, temp_dir
from app.common.models import utcnow
from app.database import unit_of_work
from app.extensions import db

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
JOB_TIMEOUT_SECONDS = 300  # the RQ job's timeout (jobs.enqueue)
CLAIM_EXPIRES = timedelta(seconds=JOB_TIMEOUT_SECONDS + 60)  # a claim older than this: its worker died
STORAGE_BACKOFF_FIRST, STORAGE_BACKOFF_MAX = timedelta(minutes=1), timedelta(hours=1)
DERIVED_CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp"}
VARIANTS = ("display", "thumbnail")


# EXIF orientation → the transposition that shows the photo upright (as ImageOps.exif_transpose).
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}
_REDUCIBLE = ("RGB", "RGBA", "L", "LA", "CMYK")
_ICC_SPACES = {"RGB": "RGB ", "RGBA": "RGB ", "L": "GRAY", "CMYK": "CMYK"}


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _flatten(image: Image.Image, fmt: str) -> Image.Image:
    """RGB for JPEG (transparency on white); WebP keeps an alpha channel if the photo had one."""
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        if fmt == "webp":
            return rgba
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image if image.mode == "RGB" else image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Colours converted from the photo's own ICC profile to sRGB; the copies then carry no profile
    (a browser takes untagged images as sRGB), so no foreign profile, or bytes hidden in one, is served."""
    if not icc_profile or image.mode not in _ICC_SPACES:
        return image
    try:
        from PIL import ImageCms

        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space != _ICC_SPACES[image.mode]:
            return image
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except Exception:  # an unreadable or unusable profile: the pixels as they are, the profile dropped
        log.info("media ICC profile not applied", exc_info=True)
        return image


def _save(image: Image.Image, path: Path, fmt: str) -> None:
    # Only what is passed here is written: no exif=, no xmp=, no icc_profile= and no comment (Pillow
    # would copy the source's from `info`), so no EXIF (GPS, device, time) and no hidden text leaves.
    image.info = {}
    if fmt == "webp":
        image.save(path, format="WEBP", quality=82, method=4)
    else:
        image.save(path, format="JPEG", quality=85, optimize=True, progressive=True)


def _draft_box(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """The smallest size whose longest side is still `longest`, for JPEG's decode-at-scale (draft)."""
    ratio = min(1.0, longest / max(size))
    return max(1, math.ceil(size[0] * ratio)), max(1, math.ceil(size[1] * ratio))


def render(source: Path, out_dir: Path, *, display_px: int, thumbnail_px: int, fmt: str) -> dict[str, Path]:
    """Write display and thumbnail copies of `source` into `out_dir`; return their paths.

    Memory: the photo is made small first (a JPEG decoded at 1/2, 1/4 or 1/8 scale where that still
    covers the display size; any image reduced by a whole factor right after decoding, and the
    full-size decode released), and only then converted, oriented and resized: one full-size image
    at most, never several.
    """
    opened = Image.open(source, formats=validation.OPEN_FORMATS)
    try:
        if opened.format in validation.JPEG_FAMILY:
            opened.draft("RGB", _draft_box(opened.size, display_px))  # decode at a reduced scale
        opened.load()
        icc_profile = opened.info.get("icc_profile")
        orientation = validation._orientation(opened.getexif())
        work: Image.Image = opened
        if work.mode not in _REDUCIBLE:
            work = work.convert("RGBA" if _has_alpha(work) else "RGB")
        factor = max(work.size) // display_px
        if factor >= 2:
            work = work.reduce(factor)  # a cheap box filter by a whole factor; the full-size image goes
        if work is not opened:
            opened.close()
        # The bound is square, so it is the same before and after orientation: resize, then turn.
        work.thumbnail((display_px, display_px), Image.Resampling.LANCZOS)
        work = _to_srgb(work, icc_profile)
        if orientation in _TRANSPOSE:
            work = work.transpose(_TRANSPOSE[orientation])
        display = _flatten(work, fmt)
        del work
        thumbnail = display.copy()
        thumbnail.thumbnail((thumbnail_px, thumbnail_px), Image.Resampling.LANCZOS)
        paths = {}
        for variant, copy in (("display", display), ("thumbnail", thumbnail)):
            paths[variant] = out_dir / f"{variant}.{fmt}"
            _save(copy, paths[variant], fmt)
        return paths
    finally:
        opened.close()


@contextmanager
def local_original(tenant_id: int, sha256: str) -> Iterator[Path]:
    """The original as a local file: the stored file itself, or a temporary download from S3."""
    storage = get_storage()
    key = keys.original(tenant_id, sha256)
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise StorageTrouble(f"the original is missing from the store: {key}")
        yield path
        return
    with tempfile.NamedTemporaryFile(dir=temp_dir(), prefix="fetch-") as handle:
        try:
            for chunk in storage.iter_bytes(key):
                handle.write(chunk)
            handle.flush()
        except Exception as error:
            raise StorageTrouble(f"the original could not be read: {type(error).__name__}: {error}") from error
        yield Path(handle.name)


class StorageTrouble(Exception):
    """Reading the original or writing a copy failed: the store's trouble, not the photo's."""


def _is_storage_error(error: BaseException) -> bool:
    # Pillow reports undecodable data as OSError without an errno; the system's I/O errors have one.
    return isinstance(error, StorageTrouble) or (isinstance(error, OSError) and error.errno is not None)


def storage_backoff(errors_in_a_row: int) -> timedelta:
    return min(STORAGE_BACKOFF_FIRST * 2 ** max(0, errors_in_a_row - 1), STORAGE_BACKOFF_MAX)


def _locked_blob(tenant_id: int, sha256: str, *, skip_locked: bool = False) -> MediaBlob | None:
    return db.session.execute(
        select(MediaBlob).where(MediaBlob.tenant_id == tenant_id, MediaBlob.sha256 == sha256)
        .with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)).scalar_one_or_none()


def _claim(tenant_id: int, sha256: str) -> str | None:
    """Count the attempt and mark the blob `processing`, committed before any work: a worker killed
    mid-job (SIGKILL, OOM, a deploy) has still used its attempt. None when claimed, else the outcome."""
    with unit_of_work():
        blob = _locked_blob(tenant_id, sha256, skip_locked=True)
        if blob is None:
            return "busy_or_missing"  # another job is claiming it right now, or nothing to do
        if blob.state in (ProcessingState.READY, ProcessingState.FAILED):
            return f"already_{blob.state}"
        now = utcnow()
        if blob.state == ProcessingState.PROCESSING:
            if blob.claimed_at is not None and blob.claimed_at > now - CLAIM_EXPIRES:
                return "busy"  # another worker is on it
            if blob.attempts >= MAX_ATTEMPTS:
                _give_up(blob, "the worker stopped during the last attempt (killed or timed out)")
                return blob.state
        blob.attempts += 1
        blob.state, blob.claimed_at = ProcessingState.PROCESSING.value, now
    return None


def _give_up(blob: MediaBlob, error: str | None = None) -> None:
    if error is not None:
        blob.last_error = error[:500]
    blob.state, blob.claimed_at = ProcessingState.FAILED.value, None
    refresh_flags(blob)


def release_stale_claim(blob: MediaBlob) -> None:
    """A claim older than the job timeout: that attempt died (and was counted). Pending again, or failed."""
    if blob.attempts >= MAX_ATTEMPTS:
        _give_up(blob, "the worker stopped during the last attempt (killed or timed out)")
    else:
        blob.state, blob.claimed_at = ProcessingState.PENDING.value, None
        blob.last_error = "the worker stopped during an attempt (killed or timed out)"


def process_blob(*, tenant_id: int, sha256: str) -> str:
    """Make the served copies of one blob, once. Returns what happened (for logs and the job's result).

    Three short transactions: claim (the attempt counted and committed), then the work with no row
    lock and no transaction open, then the outcome. A decode failure uses up its attempt (failed
    after MAX_ATTEMPTS); a storage failure gives it back and is retried by the sweep with backoff.
    """
    s = settings()
    storage = get_storage()
    fmt = "webp" if s.media_derived_format == "webp" else "jpeg"
    outcome = _claim(tenant_id, sha256)
    if outcome is not None:
        return outcome
    work = Path(tempfile.mkdtemp(dir=temp_dir(), prefix="derive-"))
    phase = "fetch"
    try:
        with local_original(tenant_id, sha256) as source:
            phase = "render"
            paths = render(source, work, display_px=s.media_display_px, thumbnail_px=s.media_thumbnail_px, fmt=fmt)
        phase = "store"
        for variant, path in paths.items():
            storage.put_file(keys.derived(tenant_id, sha256, variant, fmt), path, DERIVED_CONTENT_TYPES[fmt])
        sizes = {variant: path.stat().st_size for variant, path in paths.items()}
    except Exception as error:  # recorded on the row; BaseException (a kill) leaves the claim to the sweep
        storage_error = phase != "render" or _is_storage_error(error)
        log.warning("media processing failed", extra={"tenant_id": tenant_id, "sha256": sha256,
                                                      "storage_error": storage_error}, exc_info=True)
        return _record_failure(tenant_id, sha256, f"{type(error).__name__}: {error}", storage_error)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with unit_of_work():
        blob = _locked_blob(tenant_id, sha256)
        if blob is None or blob.state == ProcessingState.READY:
            return "already_ready" if blob is not None else "busy_or_missing"
        blob.display_bytes, blob.thumbnail_bytes = sizes["display"], sizes["thumbnail"]
        blob.derived_format, blob.state, blob.processed_at = fmt, ProcessingState.READY.value, utcnow()
        blob.last_error, blob.claimed_at, blob.storage_errors, blob.next_attempt_at = None, None, 0, None
        refresh_flags(blob)
        return blob.state


def _record_failure(tenant_id: int, sha256: str, error: str, storage_error: bool) -> str:
    with unit_of_work():
        blob = _locked_blob(tenant_id, sha256)
        if blob is None or blob.state in (ProcessingState.READY, ProcessingState.FAILED):
            return f"already_{blob.state}" if blob is not None else "busy_or_missing"
        blob.last_error, blob.claimed_at = error[:500], None
        if storage_error:  # not the photo's fault: the attempt is given back, the sweep retries later
            blob.attempts = max(0, blob.attempts - 1)
            blob.storage_errors += 1
            blob.next_attempt_at = utcnow() + storage_backoff(blob.storage_errors)
            blob.state = ProcessingState.PENDING.value
            return "storage_error"
        if blob.attempts >= MAX_ATTEMPTS:
            _give_up(blob)
        else:
            blob.state = ProcessingState.PENDING.value
        refresh_flags(blob)
        return blob.state


def refresh_flags(blob: MediaBlob) -> None:
    """Record the evidence flags of every item showing this blob, as they stand now."""
    s = settings()
    for item in db.session.execute(select(MediaItem).where(MediaItem.sha256 == blob.sha256)).scalars():
        found = evidence.evaluate(item, blob, skew_minutes=s.media_capture_skew_minutes,
                                  max_distance_m=s.media_gps_distance_m)
        item.flags, item.flags_checked_at = found.flags, utcnow()
