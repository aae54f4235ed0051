"""Jobs run inside a Flask app context that the worker process builds once."""
from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


def get_app() -> Flask:
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def in_app_context(func):
    """Run a job in an app context, and leave no session open behind it.

    Inside the worker (which keeps one app context for all jobs) a failed job's session is rolled
    back, so a lost database connection (PostgreSQL restarting) fails that job only: the next job
    gets a fresh connection from the pool (pre-ping), and the sweep redoes what the failed one left.
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        if has_app_context():
            try:
                return func(*args, **kwargs)
            except BaseException:
                from app.extensions import db

                db.session.rollback()
                raise
        with get_app().app_context():
            try:
                return func(*args, **kwargs)
            finally:
                from app.extensions import db

                db.session.remove()

    return wrapper


__all__ = ["get_app", "in_app_context", "current_app"]
