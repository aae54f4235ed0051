"""Sending a stored copy: caching for the immutable derived images, containment for originals."""
from __future__ import annotations

from flask import Response, request, send_file, stream_with_context

from app.blueprints.media.service import Stored
from app.blueprints.media.storage import get_storage

YEAR = 365 * 24 * 3600


def send(stored: Stored, *, max_age: int = YEAR) -> Response:
    """Derived copies never change under their URL: `immutable`, private (a tenant's evidence).
    Originals: not cached, downloaded rather than rendered, never sniffed as anything else."""
    if request.if_none_match and request.if_none_match.contains(stored.etag.strip('"')):
        response = Response(status=304)
    else:
        storage = get_storage()
        path = storage.local_path(stored.key)
        if path is not None:
            response = send_file(path, mimetype=stored.content_type, conditional=False, etag=False,
                                 max_age=None)
        else:
            response = Response(stream_with_context(storage.iter_bytes(stored.key)), mimetype=stored.content_type)
            if stored.size is not None:
                response.headers["Content-Length"] = str(stored.size)
    response.headers["ETag"] = stored.etag
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if stored.is_original:
        response.headers["Cache-Control"] = "private, no-store"
        extension = stored.content_type.split("/")[-1].replace("jpeg", "jpg")
        response.headers["Content-Disposition"] = f'attachment; filename="{stored.media_id}.{extension}"'
    else:
        response.headers["Cache-Control"] = f"private, max-age={max(0, max_age)}, immutable"
    return response
