"""Jobs run inside a Flask app context that the worker process builds once."""
from __future__ import annotations

import threading
from functools import wraps

from flask import Flask, current_app, has_app_context

_app: Flask | None = None
# Set when the worker was asked to stop (SIGTERM). RQ lets the running job finish, so a job that walks
# every tenant checks this between tenants: it stops early and the next run of the sweep catches up,
# instead of holding a shutdown (a deploy, a test) for as long as all tenants take.
_shutdown = threading.Event()


def request_shutdown() -> None:
    _shutdown.set()


def shutdown_requested() -> bool:
    return _shutdown.is_set()


def each_tenant(name: str, per_tenant, total: dict) -> dict:
    """The periodic sweeps' loop: `per_tenant(tenant_id)` for every tenant, one at a time (each opens its
    own scope), stopping between tenants on shutdown; one tenant's failure is logged and rolled back,
    never stops the others. The returned counts are summed into `total`, which is logged and returned."""
    import logging

    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.service import list_tenants

    log = logging.getLogger(per_tenant.__module__)
    with tenant_scope(is_platform=True):
        tenant_ids = [tenant.id for tenant in list_tenants()]
        db.session.rollback()
    for tenant_id in until_shutdown(tenant_ids):
        try:
            counts = per_tenant(tenant_id)
        except Exception:  # noqa: BLE001 - one tenant's trouble must not stop the others
            db.session.rollback()
            log.exception(f"{name} failed for a tenant", extra={"tenant_id": tenant_id})
            continue
        for key, value in counts.items():
            total[key] += value
    if any(total.values()):
        log.info(name, extra=total)
    return total


def until_shutdown(items):
    """Yield the items one by one, stopping before the next one once shutdown is requested."""
    for item in items:
        if _shutdown.is_set():
            return
        yield item


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


__all__ = ["get_app", "in_app_context", "current_app", "request_shutdown", "shutdown_requested", "until_shutdown"]
