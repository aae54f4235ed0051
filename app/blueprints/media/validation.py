"""Deciding what an uploaded file is, by decoding it with Pillow, never by its name or declared type.

`inspect` refuses, with a machine code: an empty file, an unknown or unlisted format, more
pixels than the cap (decompression bombs), a file that does not decode to the end (truncated
or corrupt), and a polyglot: markup or an archive hidden where a browser's sniffer or an archive
reader would find it (the first bytes, comment or text chunks, or bytes after the image's end).
What it accepts it describes: format, oriented size, and the EXIF evidence.
"""
from __future__ import annotations

import re
import struct
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageFile, UnidentifiedImageError

from app.blueprints.media.errors import UnsupportedMediaType, refused
from app.blueprints.media.models import MediaFormat

try:  # HEIC/HEIF from iPhones and many Android phones
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - a declared dependency; without it HEIF is simply refused
    pillow_heif = None

ImageFile.LOAD_TRUNCATED_IMAGES = False  # a truncated photo is refused, never silently padded

# MPO: a JPEG with a Multi-Picture (MPF) header, as Ultra HDR and many Samsung/Canon phones write;
# Pillow names it "MPO", but its first picture is an ordinary JPEG.
PIL_FORMATS = {"JPEG": MediaFormat.JPEG, "MPO": MediaFormat.JPEG, "PNG": MediaFormat.PNG, "WEBP": MediaFormat.WEBP,
               "HEIF": MediaFormat.HEIF}
JPEG_FAMILY = ("JPEG", "MPO")
OPEN_FORMATS = ["JPEG", "PNG", "WEBP", "HEIF"]  # what Image.open may try (an MPO is opened as a JPEG)
CONTENT_TYPES = {MediaFormat.JPEG: "image/jpeg", MediaFormat.PNG: "image/png", MediaFormat.WEBP: "image/webp",
                 MediaFormat.HEIF: "image/heic"}

# What a content sniffer or a script interpreter would act on. Looked for only where such text
# can live (see module docstring), not in compressed pixel data, where short byte strings occur
# by chance.
_MARKUP = re.compile(rb"<\s*(script|html|body|iframe|svg|object|embed|!doctype|\?php|meta\s|head>)|javascript:",
                     re.IGNORECASE)
_ARCHIVES = (b"PK\x03\x04", b"PK\x05\x06", b"%PDF-", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b\x08")
SNIFF_BYTES = 4096          # browsers sniff the first 1445 bytes; a margin
ZIP_TAIL_BYTES = 65_535 + 22  # where an archive reader looks for the end-of-central-directory record

EXIF_ORIENTATION, EXIF_MAKE, EXIF_MODEL = 0x0112, 0x010F, 0x0110
IFD_EXIF, IFD_GPS = 0x8769, 0x8825
EXIF_DATETIME_ORIGINAL, EXIF_DATETIME_DIGITIZED, EXIF_OFFSET_ORIGINAL = 0x9003, 0x9004, 0x9011


@dataclass(frozen=True)
class Inspected:
    format: MediaFormat
    width: int           # as displayed, after the EXIF orientation
    height: int
    orientation: int | None
    taken_at: datetime | None
    gps_latitude: Decimal | None
    gps_longitude: Decimal | None
    device_make: str | None
    device_model: str | None

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


# What decoding a whole image costs, in bytes of peak memory per pixel (Pillow 12 and pillow-heif 1.8,
# measured on 16 MP photos): the decoded image, and the decoder's own buffers. A baseline JPEG is
# decoded at 1/8 scale (~0.1 B/px) and needs no such cap; a progressive one still keeps all its
# coefficients until the last scan. The pixel cap of each format is MEDIA_DECODE_MEMORY_MB / cost.
# Measured: PNG 4.0, progressive JPEG 3.0, HEIF 8.0, WebP 15.6; the costs below keep a margin.
FULL_DECODE_COST = {"PNG": 5, "JPEG": 4, "HEIF": 9, "WEBP": 17}
DEFAULT_DECODE_MEMORY_MB = 128
DECODE_WAIT_SECONDS = 30


class _DecodeGate:
    """At most N whole decodes at once in this process (MEDIA_DECODE_CONCURRENCY): memory is bounded by
    N × the largest allowed decode, however many uploads arrive together."""

    def __init__(self):
        self._lock = threading.Lock()
        self._size = 0
        self._semaphore: threading.BoundedSemaphore | None = None

    @contextmanager
    def slot(self, size: int, wait: float = DECODE_WAIT_SECONDS):
        size = max(1, int(size))
        with self._lock:
            if self._semaphore is None or self._size != size:
                self._semaphore, self._size = threading.BoundedSemaphore(size), size
            semaphore = self._semaphore
        if not semaphore.acquire(timeout=wait):
            from app.blueprints.media.errors import MediaBusy

            raise MediaBusy()
        try:
            yield
        finally:
            semaphore.release()


decode_gate = _DecodeGate()


def needs_full_decode(image: Image.Image) -> bool:
    """Only a baseline JPEG can be checked at reduced scale; every other format is decoded whole."""
    return image.format not in JPEG_FAMILY or bool(image.info.get("progressive"))


def full_decode_max_pixels(pil_format: str, memory_mb: int) -> int:
    """The most pixels a format decoded whole may have, so that decoding it stays within `memory_mb`."""
    cost = FULL_DECODE_COST["JPEG" if pil_format in JPEG_FAMILY else pil_format]
    return memory_mb * 1024 * 1024 // cost


def inspect(path: Path, *, max_pixels: int, time_zone: str = "Asia/Shanghai",
            decode_memory_mb: int = DEFAULT_DECODE_MEMORY_MB, decode_concurrency: int = 1) -> Inspected:
    size = path.stat().st_size
    if size == 0:
        raise refused("media_empty", "The file is empty.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path, formats=OPEN_FORMATS) as image:
                fmt = PIL_FORMATS.get(image.format or "")
                if fmt is None:
                    raise UnsupportedMediaType()
                width, height = image.size
                if width * height > max_pixels:
                    raise _too_many_pixels(width, height, max_pixels)
                whole = needs_full_decode(image)
                if whole and width * height > (cap := full_decode_max_pixels(image.format, decode_memory_mb)):
                    raise _too_many_pixels(width, height, cap, kind=_kind(image))
                if image.format in JPEG_FAMILY:
                    # Decode every scan at 1/8 scale: each byte is still checked, in a fraction of the memory
                    # (a progressive JPEG still keeps all its coefficients until the last scan).
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                if not whole:
                    image.load()
                else:
                    with decode_gate.slot(decode_concurrency):
                        image.load()
                exif = image.getexif()
        except (UnidentifiedImageError, UnsupportedMediaType):
            raise UnsupportedMediaType() from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(0, 0, max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError) as error:
            if isinstance(error, PermissionError):
                raise
            raise refused("media_corrupt", "The photo does not decode: it is truncated or damaged.") from None
    _refuse_polyglot(path, fmt, size)
    orientation = _orientation(exif)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return Inspected(format=fmt, width=width, height=height, orientation=orientation,
                     taken_at=_taken_at(exif, time_zone), **_gps(exif), **_device(exif))


def _kind(image: Image.Image) -> str:
    if image.format in JPEG_FAMILY:
        return "a progressive JPEG"
    return {"PNG": "a PNG", "WEBP": "a WebP", "HEIF": "a HEIF"}.get(image.format or "", "this format")


def _too_many_pixels(width: int, height: int, max_pixels: int, *, kind: str | None = None):
    what = f"{width}×{height} pixels" if width else "Too many pixels"
    where = f" for {kind}, which is decoded whole" if kind else ""
    return refused("media_too_many_pixels", f"{what}: more than the {max_pixels:,} this district accepts{where}.")


# ---------------------------------------------------------------- polyglots

def _refuse_polyglot(path: Path, fmt: MediaFormat, size: int) -> None:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
        text_parts, end = _structure(handle, fmt, size)
        trailer_head = trailer_tail = b""
        if end is not None and end < size:
            handle.seek(end)
            trailer_head = handle.read(SNIFF_BYTES)
            handle.seek(max(end, size - ZIP_TAIL_BYTES))
            trailer_tail = handle.read()
    if end is None:
        raise refused("media_corrupt", "The photo's structure is damaged: its end was not found.")
    for part in (head, *text_parts, trailer_head):
        if _MARKUP.search(part):
            raise refused("media_polyglot", "The file hides markup or script inside the photo.")
    if trailer_head.startswith(_ARCHIVES) or any(sig in trailer_tail for sig in (b"PK\x05\x06", b"PK\x03\x04")):
        raise refused("media_polyglot", "The file has an archive or document appended to the photo.")


def _structure(handle, fmt: MediaFormat, size: int) -> tuple[list[bytes], int | None]:
    """(text-bearing parts, offset just past the image's last byte) by walking the container."""
    handle.seek(0)
    if fmt is MediaFormat.JPEG:
        return _jpeg(handle)
    if fmt is MediaFormat.PNG:
        return _png(handle)
    if fmt is MediaFormat.WEBP:
        header = handle.read(12)
        riff_size = struct.unpack("<I", header[4:8])[0]
        end = riff_size + 8
        return _riff_text(handle, min(end, size)), end if end <= size else None
    return [], _bmff_end(handle, size)


def _jpeg(handle) -> tuple[list[bytes], int | None]:
    """Walk the marker segments; after each scan, the entropy-coded data up to the next marker."""
    texts: list[bytes] = []
    if handle.read(2) != b"\xff\xd8":
        return texts, None
    while True:
        byte = handle.read(1)
        if not byte:
            return texts, None
        if byte != b"\xff":
            continue
        marker = handle.read(1)
        while marker == b"\xff":  # fill bytes
            marker = handle.read(1)
        if not marker:
            return texts, None
        code = marker[0]
        if code == 0xD9:
            return texts, handle.tell()
        if 0xD0 <= code <= 0xD7 or code == 0x01:
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return texts, None
        length = struct.unpack(">H", length_bytes)[0]
        if code == 0xFE or 0xE2 < code <= 0xEF and code != 0xEE:  # COM, and APP segments but Exif/XMP/ICC/Adobe
            texts.append(handle.read(length - 2))
        else:
            handle.seek(length - 2, 1)
        if code == 0xDA:
            _skip_entropy_data(handle)


def _skip_entropy_data(handle) -> None:
    """Advance to the next real marker: in scan data 0xFF is followed only by 0x00 or a restart."""
    while True:
        chunk = handle.read(65536)
        if not chunk:
            return
        start = 0
        while (index := chunk.find(b"\xff", start)) != -1:
            if index + 1 >= len(chunk):
                if len(chunk) < 2:
                    return
                handle.seek(-1, 1)
                break
            following = chunk[index + 1]
            if following != 0x00 and not 0xD0 <= following <= 0xD7 and following != 0xFF:
                handle.seek(index - len(chunk), 1)
                return
            start = index + 1
        else:
            continue


def _png(handle) -> tuple[list[bytes], int | None]:
    texts: list[bytes] = []
    if handle.read(8) != b"\x89PNG\r\n\x1a\n":
        return texts, None
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return texts, None
        length, kind = struct.unpack(">I4s", header)
        if kind in (b"tEXt", b"iTXt") and length <= 1_000_000:
            texts.append(handle.read(length))
            handle.seek(4, 1)
        else:
            handle.seek(length + 4, 1)
        if kind == b"IEND":
            return texts, handle.tell()


def _riff_text(handle, end: int) -> list[bytes]:
    texts: list[bytes] = []
    position = 12
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            break
        kind, length = header[:4], struct.unpack("<I", header[4:])[0]
        if kind not in (b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP", b"EXIF") and length <= 1_000_000:
            texts.append(handle.read(length))
        position += 8 + length + (length & 1)
    return texts


def _bmff_end(handle, size: int) -> int | None:
    """HEIF is ISO base media: a sequence of boxes that must account for the file's bytes."""
    position = 0
    while position + 8 <= size:
        handle.seek(position)
        length, kind = struct.unpack(">I4s", handle.read(8))
        if length == 1:
            length = struct.unpack(">Q", handle.read(8))[0]
        elif length == 0:
            return size
        if length < 8 or position + length > size or not all(32 <= b < 127 for b in kind):
            break  # not a box: what follows the last good box is a trailer
        position += length
    return position or None


# ---------------------------------------------------------------- EXIF evidence

def _orientation(exif) -> int | None:
    value = exif.get(EXIF_ORIENTATION)
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = "".join(ch for ch in value if ch.isprintable()).strip().strip("\x00")
    return value[:100] or None


def _device(exif) -> dict:
    return {"device_make": _text(exif.get(EXIF_MAKE)), "device_model": _text(exif.get(EXIF_MODEL))}


def _taken_at(exif, time_zone: str) -> datetime | None:
    ifd = exif.get_ifd(IFD_EXIF)
    # Only the capture times count: IFD0's DateTime (0x0132) is when the file was last changed (an
    # editor, a messaging app re-saving it), not when the photo was taken.
    raw = ifd.get(EXIF_DATETIME_ORIGINAL) or ifd.get(EXIF_DATETIME_DIGITIZED)
    raw = _text(raw)
    if not raw:
        return None
    try:
        local = datetime.strptime(raw[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _text(ifd.get(EXIF_OFFSET_ORIGINAL))
    match = re.fullmatch(r"([+-])(\d{2}):(\d{2})", offset or "")
    if match:
        sign = 1 if match[1] == "+" else -1
        zone = timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    else:  # phones without OffsetTime write local time: the district's zone is the best guess
        zone = ZoneInfo(time_zone)
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


def _gps(exif) -> dict:
    none = {"gps_latitude": None, "gps_longitude": None}
    gps = exif.get_ifd(IFD_GPS)
    try:
        lat = _degrees(gps[2], gps.get(1, "N"), "S")
        lon = _degrees(gps[4], gps.get(3, "E"), "W")
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return none
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return none
    return {"gps_latitude": Decimal(f"{lat:.6f}"), "gps_longitude": Decimal(f"{lon:.6f}")}


def _degrees(dms, ref, negative: str) -> float:
    degrees, minutes, seconds = (float(part) for part in dms)
    value = degrees + minutes / 60 + seconds / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref.strip("\x00").upper() == negative else value
