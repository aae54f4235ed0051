"""Reading a multipart upload as it arrives: the file part to a temporary file, hashed on the way.

The body is never held whole in memory: werkzeug's sans-io multipart decoder is fed from
`request.stream` in 64 KiB pieces. The file part's bytes go to a temp file under a random
name (the client's file name is only ever kept as a cleaned label), sha256 is computed as
they pass, and reading stops as soon as the size cap is passed.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from flask import request
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from app.blueprints.media.errors import PayloadTooLarge, UnsupportedMediaType, refused
from app.errors import BadRequest, Unprocessable

CHUNK = 64 * 1024
FIELDS = ("id", "instruction_id")
FILE_FIELD = "file"
MAX_FIELD_BYTES = 200
MULTIPART_OVERHEAD = 64 * 1024  # boundaries, part headers and the small fields


@dataclass
class Upload:
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    filename: str | None = None
    declared_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def clean_filename(raw: str | None) -> str | None:
    """A label for people: the last path segment, printable characters only, at most 255."""
    if not raw:
        return None
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    name = name.strip().lstrip(".")
    return name[:255] or None


def receive(*, max_bytes: int, temp_dir: Path) -> Upload:
    """Stream the request's multipart body; the caller owns (and must `discard`) the temp file."""
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise UnsupportedMediaType("multipart_required",
                                   "Send the photo as multipart/form-data with the fields id and file.")
    declared_length = request.content_length
    if declared_length is not None and declared_length > max_bytes + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(message=f"The upload is larger than the {max_bytes:,} bytes accepted.")
    # The decoder's buffer never holds more than a chunk or two once drained; a part header that never
    # ends is cut off there (413), and so is a body of many parts.
    decoder = MultipartDecoder(options["boundary"].encode("latin-1"), max_form_memory_size=4 * CHUNK, max_parts=8)
    upload = Upload()
    digest = hashlib.sha256()
    out = None
    current: str | None = None
    value = bytearray()
    stream = request.stream
    try:
        finished = False
        while not finished:
            chunk = stream.read(CHUNK)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, (NeedData, Epilogue)):
                if isinstance(event, File):
                    if event.name != FILE_FIELD or upload.path is not None:
                        raise _unknown(event.name, "Send exactly one file, in the field `file`.")
                    fd, name = tempfile.mkstemp(dir=temp_dir, prefix="upload-")
                    upload.path = Path(name)
                    out = os.fdopen(fd, "wb")
                    current = FILE_FIELD
                    upload.filename = clean_filename(event.filename)
                    upload.declared_type = (event.headers.get("Content-Type") or "")[:100] or None
                elif isinstance(event, Field):
                    if event.name not in FIELDS or event.name in upload.fields:
                        raise _unknown(event.name, f"Unknown or repeated field; send {', '.join(FIELDS)} and file.")
                    current = event.name
                    value = bytearray()
                elif isinstance(event, Data):
                    if current == FILE_FIELD:
                        upload.size += len(event.data)
                        if upload.size > max_bytes:
                            raise PayloadTooLarge(message=f"The file is larger than the {max_bytes:,} bytes accepted.")
                        digest.update(event.data)
                        out.write(event.data)
                        if not event.more_data:
                            out.close()
                            out = None
                    else:
                        value += event.data
                        if len(value) > MAX_FIELD_BYTES:
                            raise refused("field_too_long", "The value is too long.", current)
                        if not event.more_data:
                            upload.fields[current] = value.decode("utf-8", "replace")
                    if not event.more_data:
                        current = None
                event = decoder.next_event()
            finished = isinstance(event, Epilogue) or not chunk
        if not isinstance(event, Epilogue):
            raise BadRequest("multipart_malformed", "The multipart body ended before its closing boundary.")
    except ValueError:  # the decoder's "unexpected end of file" and malformed part headers
        _close(out)
        upload.discard()
        raise BadRequest("multipart_malformed", "The multipart body is malformed or cut short.") from None
    except BaseException:
        _close(out)
        upload.discard()
        raise
    _close(out)
    if upload.path is None:
        raise refused("file_required", "Attach the photo in the field `file`.")
    upload.sha256 = digest.hexdigest()
    return upload


def _close(out) -> None:
    if out is not None and not out.closed:
        out.close()


def _unknown(name: str, message: str) -> Unprocessable:
    return Unprocessable("unknown_field", message, errors={name or "_schema": [message]})
