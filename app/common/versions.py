"""Which version a client says it changes (optimistic locking, design.md section 5): one reading for every route."""
from __future__ import annotations

from flask import request

from app.errors import PreconditionFailed


def expected_version(body: dict | None = None) -> int | None:
    """`version` from the body (removed from it), else the `If-Match` header (`"3"`, `W/"3"` or `3`).

    None when neither is given, or `If-Match: *`: the client accepts whatever the row lock finds.
    """
    if body is not None and body.get("version") is not None:
        return body.pop("version")
    if body is not None:
        body.pop("version", None)
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 9:
        raise PreconditionFailed("version_mismatch", "If-Match must be the ETag of what you change, e.g. \"3\".")
    return int(tag)
