"""Idempotency-Key for POSTs from phones on bad networks (design.md section 8).

- The same key with the same body replays the stored response.
- The same key with another body is refused with 422 (`idempotency_key_reused`).
- A key whose first request is still running gets 409 (`idempotency_request_in_flight`).

The claim row is inserted in the request's own transaction, so it commits with the
work it guards: if the work rolls back, the key is free again. A transaction-scoped
advisory lock makes a concurrent twin answer 409 at once instead of waiting.
Keys are per tenant and per user, and expire after IDEMPOTENCY_TTL_HOURS.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from functools import wraps

from flask import Response, current_app, g, make_response, request
from flask_jwt_extended import current_user
from sqlalchemy import (BigInteger, DateTime, ForeignKeyConstraint, Integer, LargeBinary, String, delete, func,
                        select, text, update)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, mapped_column

from app.common.models import utcnow
from app.errors import BadRequest, Conflict, Unprocessable
from app.extensions import db
from app.tenants.models import TenantOwned

HEADER = "Idempotency-Key"
_REPLAYED_HEADERS = ("Content-Type", "Location", "ETag", "X-Pagination")


class IdempotencyKey(TenantOwned, db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="in_flight")
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


def _fingerprint() -> str:
    """Method, path and body; a JSON body in canonical form, so key order or spacing do not matter."""
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode() + b"\0")
    body = request.get_json(silent=True) if request.is_json else None
    if body is not None:
        digest.update(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    response = Response(row.response_body, status=row.status_code)
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorate a tenant-scoped POST view method; place it above the flask-smorest decorators."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not (1 <= len(key) <= 200) or not key.isprintable():
            raise BadRequest("invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters.")
        tenant_id, user_id = g.tenant.id, current_user.id
        fingerprint = _fingerprint()
        lock_id = int.from_bytes(hashlib.sha256(f"{tenant_id}:{user_id}:{key}".encode()).digest()[:8],
                                 "big", signed=True)
        if not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id}).scalar():
            raise Conflict("idempotency_request_in_flight",
                           "A request with this Idempotency-Key is still being processed.",
                           headers={"Retry-After": "1"})
        ttl = timedelta(hours=current_app.extensions["liandong_settings"].idempotency_ttl_hours)
        claimed = db.session.execute(
            insert(IdempotencyKey)
            .values(tenant_id=tenant_id, user_id=user_id, key=key, request_hash=fingerprint,
                    state="in_flight", created_at=utcnow(), expires_at=utcnow() + ttl)
            # An expired key that the purge has not reached yet is free again.
            .on_conflict_do_update(
                index_elements=["tenant_id", "user_id", "key"],
                set_={"request_hash": fingerprint, "state": "in_flight", "status_code": None,
                      "response_body": None, "response_headers": None, "created_at": utcnow(),
                      "expires_at": utcnow() + ttl},
                where=IdempotencyKey.expires_at < func.now())
            .returning(IdempotencyKey.key)
        ).first()
        if claimed is None:
            row = db.session.execute(
                select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id,
                                             IdempotencyKey.user_id == user_id,
                                             IdempotencyKey.key == key)
            ).scalar_one()
            if row.request_hash != fingerprint:
                raise Unprocessable("idempotency_key_reused",
                                    "This Idempotency-Key was used for a different request.")
            if row.state != "done":
                raise Conflict("idempotency_request_in_flight",
                               "A request with this Idempotency-Key is still being processed.",
                               headers={"Retry-After": "1"})
            db.session.rollback()
            return _replay(row)

        response = make_response(view(*args, **kwargs))
        # The view's service has committed its work together with the claim; record the outcome.
        db.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.user_id == user_id,
                   IdempotencyKey.key == key)
            .values(state="done", status_code=response.status_code, response_body=response.get_data(),
                    response_headers={h: response.headers[h] for h in _REPLAYED_HEADERS
                                      if h in response.headers})
        )
        db.session.commit()
        return response

    return wrapper


def purge_expired(tenant_id: int) -> int:
    """Delete this tenant's expired keys. Run by the maintenance sweep."""
    result = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id,
                                     IdempotencyKey.expires_at < func.now())
    )
    db.session.commit()
    return result.rowcount
