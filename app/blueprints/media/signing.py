"""Short-lived signed URLs, so that an <img> tag can show a photo without an Authorization header.

The signature is HMAC-SHA256 over the tenant code, media id, variant and expiry, with a key of
its own (MEDIA_SIGNING_KEY, or one derived from SECRET_KEY for this purpose only). Changing any
part of the path or the expiry breaks it. Expiries are rounded up to the minute, so the URL of
one photo stays the same for a minute and the browser's cache can use it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

from flask import current_app

from app.errors import Forbidden, NotFound

PREFIX = "/api/v1/media-signed"
VARIANTS = ("display", "thumbnail", "original")
ROUND_SECONDS = 60


def _key() -> bytes:
    settings = current_app.extensions["liandong_settings"]
    if settings.media_signing_key:
        return settings.media_signing_key.encode()
    return hmac.new(settings.secret_key.encode(), b"liandong/media-signed-url/v1", hashlib.sha256).digest()


def signature(tenant_code: str, media_id: uuid.UUID | str, variant: str, expires: int) -> str:
    message = f"{tenant_code}\n{str(media_id).lower()}\n{variant}\n{int(expires)}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class SignedUrl:
    url: str
    expires: int


def sign(tenant_code: str, media_id: uuid.UUID, variant: str, *, now: float | None = None,
         ttl_seconds: int | None = None) -> SignedUrl:
    settings = current_app.extensions["liandong_settings"]
    ttl = settings.media_signed_url_seconds if ttl_seconds is None else ttl_seconds
    now = time.time() if now is None else now
    expires = -(-int(now + ttl) // ROUND_SECONDS) * ROUND_SECONDS
    query = f"expires={expires}&signature={signature(tenant_code, media_id, variant, expires)}"
    return SignedUrl(f"{PREFIX}/{tenant_code}/{media_id}/{variant}?{query}", expires)


def verify(tenant_code: str, media_id: uuid.UUID, variant: str, expires: int | None, given: str | None,
           *, now: float | None = None) -> None:
    """Raise unless the signature is genuine and unexpired. A URL that does not verify names nothing (404)."""
    if expires is None or not given:
        raise NotFound("signed_url_invalid", "This link is not valid.")
    expected = signature(tenant_code, media_id, variant, expires)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise NotFound("signed_url_invalid", "This link is not valid.")
    if (time.time() if now is None else now) > expires:
        raise Forbidden("signed_url_expired", "This link has expired; ask for a fresh one.")
