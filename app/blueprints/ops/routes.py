"""/healthz (the process answers), /readyz (PostgreSQL and Redis answer)."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the reason goes to the log
        db.session.rollback()
        log.warning("readyz: database down: %s", exc)
        checks["database"] = "down"
    try:
        current_app.extensions["liandong_redis"].ping()
        checks["redis"] = "ok"
    except Exception as exc:
        log.warning("readyz: redis down: %s", exc)
        checks["redis"] = "down"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(checks), 200 if ready else 503
