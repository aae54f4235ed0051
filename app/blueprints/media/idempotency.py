"""Idempotency-Key for the multipart upload: the shared rules (app.common.idempotency), another fingerprint.

The shared decorator fingerprints the raw body, which would read a whole photo into memory. Here
the fingerprint is the method, path, form fields and the file's sha256, known once the body has
been streamed to disk; the claim row is the same table, inserted in the upload's own transaction.
A claim left `in_flight` by an attempt that committed but never recorded its answer is taken over
by the next retry, which answers from the committed item (fresh signed URLs) instead of 409.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import current_app, g, make_response, request
from flask_jwt_extended import current_user
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from app.common.idempotency import _REPLAYED_HEADERS, HEADER, IdempotencyKey, _replay
from app.common.models import utcnow
from app.errors import BadRequest, Conflict, Unprocessable
from app.extensions import db


def fingerprint(*, media_id: str, instruction_id: str | None, sha256: str) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, media_id, instruction_id or "", sha256):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def key_of_request() -> str | None:
    key = request.headers.get(HEADER)
    if key is not None and (not (1 <= len(key) <= 200) or not key.isprintable()):
        raise BadRequest("invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters.")
    return key


def claim(key: str, request_hash: str):
    """Claim the key in the open transaction; return the stored response when this is a replay."""
    tenant_id, user_id = g.tenant.id, current_user.id
    lock_id = int.from_bytes(hashlib.sha256(f"{tenant_id}:{user_id}:{key}".encode()).digest()[:8], "big", signed=True)
    in_flight = Conflict("idempotency_request_in_flight", "A request with this Idempotency-Key is still being "
                         "processed.", headers={"Retry-After": "1"})
    if not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id}).scalar():
        raise in_flight
    ttl = timedelta(hours=current_app.extensions["liandong_settings"].idempotency_ttl_hours)
    claimed = db.session.execute(
        insert(IdempotencyKey)
        .values(tenant_id=tenant_id, user_id=user_id, key=key, request_hash=request_hash, state="in_flight",
                created_at=utcnow(), expires_at=utcnow() + ttl)
        .on_conflict_do_update(
            index_elements=["tenant_id", "user_id", "key"],
            set_={"request_hash": request_hash, "state": "in_flight", "status_code": None, "response_body": None,
                  "response_headers": None, "created_at": utcnow(), "expires_at": utcnow() + ttl},
            where=IdempotencyKey.expires_at < func.now())
        .returning(IdempotencyKey.key)).first()
    if claimed is not None:
        g.media_idempotency_key = key
        return None
    row = db.session.execute(select(IdempotencyKey).where(
        IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    ).scalar_one()
    if row.request_hash != request_hash:
        raise Unprocessable("idempotency_key_reused", "This Idempotency-Key was used for a different request.")
    if row.state != "done":
        # We hold the key's lock, so no request is working under it now: the attempt that claimed it
        # committed (the claim is part of the upload's transaction) but its answer was never recorded
        # (an error or a kill after the commit). Answer again from what was committed: the upload goes
        # on as a retry of the same id and records its answer under this key.
        g.media_idempotency_key = key
        return None
    return _replay(row)


def records_outcome(view):
    """Around the upload view (above flask-smorest's decorators): store the response of a claimed key."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        key = g.pop("media_idempotency_key", None)
        if key is not None:
            db.session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.tenant_id == g.tenant.id, IdempotencyKey.user_id == current_user.id,
                       IdempotencyKey.key == key)
                .values(state="done", status_code=response.status_code, response_body=response.get_data(),
                        response_headers={h: response.headers[h] for h in _REPLAYED_HEADERS if h in response.headers}))
            db.session.commit()
        return response
    return wrapper
