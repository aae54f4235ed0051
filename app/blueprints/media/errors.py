"""The refusals of the media domain, each with a stable machine code (docs/media.md lists them)."""
from __future__ import annotations

from app.errors import DomainError, Unprocessable


class PayloadTooLarge(DomainError):
    status = 413
    default_code = "media_too_large"
    default_message = "The file is larger than this district accepts."


class UnsupportedMediaType(DomainError):
    status = 415
    default_code = "media_unsupported_type"
    default_message = "Only JPEG, PNG, WebP and HEIC/HEIF photos are accepted."


class MediaBusy(DomainError):
    status = 503
    default_code = "media_busy"
    default_message = "Too many large photos are being checked right now; send it again in a moment."

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("headers", {"Retry-After": "5"})
        super().__init__(*args, **kwargs)


def refused(code: str, message: str, field: str = "file") -> Unprocessable:
    return Unprocessable(code, message, errors={field: [message]})
