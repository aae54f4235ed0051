"""Where media bytes live: a small backend interface, the local filesystem (default) and S3-compatible.

Keys are made by `keys.*` from the tenant id and the sha256 only, never from anything a client
sent, and `_check_key` refuses any other shape, so no path from outside reaches a filesystem or
a bucket.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator, Protocol

from flask import current_app

_KEY = re.compile(r"^t/[0-9]{1,19}/[0-9a-f]{2}/[0-9a-f]{64}/(original|display\.(jpg|webp)|thumbnail\.(jpg|webp))$")
CHUNK = 1024 * 1024


class keys:
    """Object keys: per tenant, content-addressed by sha256."""

    @staticmethod
    def base(tenant_id: int, sha256: str) -> str:
        return f"t/{int(tenant_id)}/{sha256[:2]}/{sha256}"

    @classmethod
    def original(cls, tenant_id: int, sha256: str) -> str:
        return f"{cls.base(tenant_id, sha256)}/original"

    @classmethod
    def derived(cls, tenant_id: int, sha256: str, variant: str, fmt: str) -> str:
        return f"{cls.base(tenant_id, sha256)}/{variant}.{'jpg' if fmt == 'jpeg' else 'webp'}"


def _check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError(f"not a media key: {key!r}")
    return key


class Storage(Protocol):
    name: str

    def put_file(self, key: str, path: Path, content_type: str) -> None: ...
    def open(self, key: str) -> IO[bytes]: ...
    def iter_bytes(self, key: str) -> Iterator[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def local_path(self, key: str) -> Path | None: ...


class LocalStorage:
    """Files under one root (default VAR_DIR/media); written to a temporary name, fsynced, renamed, and
    the directory fsynced (a crash then leaves either no file or the whole file under its key)."""

    name = "local"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out, open(path, "rb") as source:
                shutil.copyfileobj(source, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o640)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)  # the rename itself is durable only once its directory is

    def open(self, key: str) -> IO[bytes]:
        return open(self._path(key), "rb")

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        with self.open(key) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, Ceph RGW, OSS/COS in S3 mode) through boto3."""

    name = "s3"

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str, access_key_id: str | None,
                 secret_access_key: str | None, prefix: str = ""):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        # upload_file streams from disk (multipart above 8 MB); nothing is held whole in memory.
        self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type})

    def open(self, key: str) -> IO[bytes]:
        return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        body = self.open(key)
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def local_path(self, key: str) -> Path | None:
        return None


def build_storage(settings) -> Storage:
    if settings.media_storage == "s3":
        if not settings.media_s3_bucket:
            raise RuntimeError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET")
        return S3Storage(bucket=settings.media_s3_bucket, endpoint_url=settings.media_s3_endpoint_url,
                         region=settings.media_s3_region, access_key_id=settings.media_s3_access_key_id,
                         secret_access_key=settings.media_s3_secret_access_key, prefix=settings.media_s3_prefix)
    if settings.media_storage != "local":
        raise RuntimeError(f"MEDIA_STORAGE must be local or s3, not {settings.media_storage!r}")
    return LocalStorage(settings.media_dir or settings.var_dir / "media")


def settings():
    return current_app.extensions["liandong_settings"]


def get_storage() -> Storage:
    """The app's backend, built once per app (tests may replace `app.extensions['liandong_media_storage']`)."""
    storage = current_app.extensions.get("liandong_media_storage")
    if storage is None:
        storage = current_app.extensions["liandong_media_storage"] = build_storage(settings())
    return storage


def temp_dir() -> Path:
    """Where uploads are streamed before they are accepted: beside the local store, so moves are cheap."""
    s = settings()
    path = (s.media_dir or s.var_dir / "media") / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path
