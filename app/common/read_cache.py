"""Repeat reads of the polled lists (desk board, unit inbox, my tasks) answered from a validated cache.

The desk's consoles re-read the board every few seconds and every unit phone polls its inbox (design.md
section 8), while a district writes perhaps once a minute. Most polls therefore ask for exactly what the
same user was given the time before. A cached answer is served only while three things hold:

1. **Nothing in the tenant has been written since it was built.** Every committed transaction that wrote
   anything announces it, after commit, by giving each tenant it may have written a new random *stamp* in
   Redis (`liandong:read-stamp:<tenant id>`). Which tenants a transaction may have written is known without
   asking the code that wrote: under row-level security a write can only touch rows of the tenants in the
   scope it ran under (app/rls.py), so each INSERT/UPDATE/DELETE that changed a row records its scope's
   tenants (bookkeeping tables that no cached list shows excepted, `_UNSHOWN_TABLES`). A platform-
   scope write (which may touch any tenant's users) renews one global stamp that every entry also checks.
   An entry is built after its stamps were read, so it holds at least what they stood for; a commit after
   that renews a stamp and the entry is never served again.
2. **No clock it shows has run out since.** While it builds an answer, a view may say until when it stays
   true without any write (`holds_until`; the board: the next deadline of a live instruction, when an
   `overdue` flag would turn on).
3. **It is younger than READ_CACHE_SECONDS** (default 15). This bounds the one staleness left: a commit whose
   announcement never reached Redis (Redis unreachable at that moment, the process killed between commit
   and announcement), or a row changed outside the app (psql). Nothing is lost either way: the data is in
   PostgreSQL, and the next answer after the bound shows it.

Entries are per user and per exact path and query, so what one user may see (masked caller phones, a
responder's own tasks) is never served to another, and only a 200 answer is kept: a refusal is always
worked out afresh. The gate (token, tenant, roles) runs before the cache on every request, so a revoked
token or a suspended tenant is refused as before. Without Redis the cache steps aside and every read is
built. Each gunicorn worker keeps its own entries, at most READ_CACHE_MB of answers (least recently used
out; a board page is ~20 KB, a 200-row inbox page ~150 KB).

Every answer of a cached view carries an `ETag`; a client that sends it back as `If-None-Match` gets
`304 Not Modified` and no body while the answer is unchanged: a phone polling over a bad network pays
for the inbox only when it changes.
"""
from __future__ import annotations

import functools
import logging
import secrets
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from cachetools import LRUCache
from flask import Response, current_app, g, has_app_context, request
from flask.cli import AppGroup
from flask_jwt_extended import current_user
from redis import Redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from app.common.models import utcnow
from app.tenants.context import current_scope

log = logging.getLogger(__name__)

_STAMP_KEY = "liandong:read-stamp:{}"
_GLOBAL = "all"
_MAX_BODY_BYTES = 512 * 1024  # a 200-row inbox page is ~150 KB; anything larger is not worth keeping
_KEPT_HEADERS = ("Content-Type", "X-Pagination", "Link")

def _new_stamp() -> str:
    """Random, not a counter: a Redis that lost its keys can never hand out an old stamp again."""
    return secrets.token_hex(8)


# The tenants (or _GLOBAL) that the open transaction of this request or job may have written.
_written: ContextVar[set | None] = ContextVar("liandong_read_cache_written", default=None)

_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE")
# Written on logins, token refreshes and every POST, and shown by no cached list: renewing a district's stamp
# for them would empty its cache every few seconds (each phone refreshes its token every 15 minutes).
_UNSHOWN_TABLES = frozenset({"token_families", "idempotency_keys", "audit_events", "audit_chain_heads",
                             "platform_audit_events", "platform_audit_head"})


def _is_write(statement: str, context) -> bool:
    # Compiled DML says so (also behind a WITH); text SQL (numbering, settling timers) starts with its verb.
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        table = getattr(getattr(context.compiled, "statement", None), "table", None)
        return getattr(table, "name", None) not in _UNSHOWN_TABLES
    return statement[:24].lstrip()[:8].upper().startswith(_WRITE_VERBS)  # (not a copy of a long statement)


def track_writes(engine: Engine) -> None:
    """Record, per transaction, which tenants its writes may have touched (see the module's docstring)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _note_write(_conn, cursor, statement, _parameters, context, _executemany):
        if cursor.rowcount == 0 or not _is_write(statement, context):
            return  # a DELETE or an upsert that changed nothing changes no answer (-1: unknown, counted)
        scope = current_scope()
        written = _written.get()
        if written is None:
            written = set()
            _written.set(written)
        written.update(scope.tenant_ids)
        if scope.is_platform:
            written.add(_GLOBAL)


@event.listens_for(Session, "after_commit")
def _announce_commit(session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released (SQLAlchemy says "commit"): nothing is committed yet
    written = _written.get()
    if not written:
        return
    _written.set(None)
    if not has_app_context():
        return
    redis = current_app.extensions.get("liandong_read_stamps")
    if redis is None:
        return
    try:
        redis.mset({_STAMP_KEY.format(tenant): _new_stamp() for tenant in written})  # one command
    except Exception:  # noqa: BLE001 - the write is committed; cached reads catch up within READ_CACHE_SECONDS
        log.warning("read cache: could not announce a commit", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session) -> None:
    if session.get_nested_transaction() is None:  # a savepoint's rollback: the outer writes still count
        _written.set(None)


def invalidate_everything(redis) -> None:
    """Renew the global stamp: every cached answer in every process is rebuilt on its next read. For changes
    made outside the app (a fix in psql: `flask --app wsgi read-cache invalidate`); the cache also catches up
    by itself within READ_CACHE_SECONDS."""
    redis.set(_STAMP_KEY.format(_GLOBAL), _new_stamp())


@dataclass(frozen=True)
class _Entry:
    stamps: tuple
    good_until: datetime
    body: bytes  # of a 200: nothing else is kept
    headers: tuple

    def size(self) -> int:
        return len(self.body) + 512  # the key, headers and bookkeeping, roughly


class ReadCache:
    def __init__(self, redis, *, seconds: int, megabytes: int):
        self.redis = redis
        self.lifetime = timedelta(seconds=seconds)
        self._entries: LRUCache = LRUCache(maxsize=megabytes * 1024 * 1024, getsizeof=_Entry.size)
        self._lock = threading.Lock()  # gunicorn's threaded workers would share one cache

    def stamps(self, tenant_id: int) -> tuple | None:
        """The tenant's and the global stamp, each created if Redis lost it (a restart); None without Redis."""
        keys = (_STAMP_KEY.format(tenant_id), _STAMP_KEY.format(_GLOBAL))
        try:
            values = self.redis.mget(keys)
            if None in values:
                with self.redis.pipeline(transaction=False) as pipe:
                    for key, value in zip(keys, values):
                        if value is None:
                            pipe.set(key, _new_stamp(), nx=True)
                    pipe.mget(keys)
                    values = pipe.execute()[-1]
        except Exception:  # noqa: BLE001 - no Redis: build every answer, as without a cache
            log.warning("read cache: Redis unavailable, answering without it", exc_info=True)
            return None
        return tuple(values)

    def get(self, key, stamps: tuple, now: datetime) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry.stamps != stamps or now >= entry.good_until:
            return None
        return entry

    def put(self, key, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry


def install(app, settings) -> None:
    """Track writes on the app's engine; keep a cache unless READ_CACHE_SECONDS is 0."""
    from app.extensions import db

    with app.app_context():
        track_writes(db.engine)
    # Its own client, with short timeouts: a hung Redis must not hold every poll and every commit's answer.
    stamps = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    app.extensions["liandong_read_stamps"] = stamps  # commits are announced even where this process keeps no cache
    if settings.read_cache_seconds > 0 and settings.read_cache_mb > 0:
        app.extensions["liandong_read_cache"] = ReadCache(
            stamps, seconds=settings.read_cache_seconds, megabytes=settings.read_cache_mb)


def building() -> bool:
    """True while a view builds an answer the cache will keep: worth saying `holds_until`."""
    return bool(g.get("_read_cache_building"))


def holds_until(moment: datetime | None) -> None:
    """Said by a view's service while building: its answer stays true without a write only until `moment`
    (a clock it shows runs out then). Read in the same statements as the answer, so they agree."""
    if moment is not None:
        earliest = g.get("_read_cache_until")
        g._read_cache_until = moment if earliest is None else min(earliest, moment)


def cached_read(view):
    """Serve a GET view's 200 answers from the read cache. Put it under `@requires`, above flask-smorest's
    decorators, so a hit skips parsing and dumping."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache: ReadCache | None = current_app.extensions.get("liandong_read_cache")
        tenant = g.get("tenant")
        stamps = cache.stamps(tenant.id) if cache is not None and tenant is not None else None
        if stamps is None:  # no cache here, or no Redis: built, as without one
            return _conditional(view(*args, **kwargs))
        # The caller's user and tenant rows were read by the gate, before the stamps: what a view takes from
        # them goes in the key, so an answer built from rows older than its stamps is never served to the
        # caller as they are now (a role or unit changed in between, the district's time zone).
        key = (tenant.id, tenant.time_zone, current_user.id, tuple(sorted(current_user.roles)),
               current_user.unit_id, request.full_path)
        now = utcnow()
        entry = cache.get(key, stamps, now)
        if entry is not None:
            return _conditional(Response(entry.body, status=200, headers=list(entry.headers)))
        g._read_cache_building = True
        try:
            response = view(*args, **kwargs)
        finally:
            g._read_cache_building = False
        until = now + cache.lifetime
        clock = g.pop("_read_cache_until", None)
        if clock is not None and clock < until:
            until = clock
        if response.status_code == 200 and not response.is_streamed:
            body = response.get_data()
            if len(body) <= _MAX_BODY_BYTES:
                response.add_etag()
                headers = tuple((name, response.headers[name]) for name in (*_KEPT_HEADERS, "ETag")
                                if name in response.headers)
                cache.put(key, _Entry(stamps, until, body, headers))
        return _conditional(response)

        # In the OpenAPI document (flask-smorest merges `manual_doc` into the operation, as for `x-roles`).
    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    apidoc.setdefault("manual_doc", {}).setdefault("responses", {})["304"] = {
        "description": "Not Modified: `If-None-Match` named this answer's current `ETag`; no body."}
    return wrapper


def _conditional(response: Response) -> Response:
    if response.status_code == 200 and not response.is_streamed:
        if "ETag" not in response.headers:
            response.add_etag()
        # Per user (no shared proxy may keep it), and asked again each time: a poll with the ETag is cheap.
        response.headers["Cache-Control"] = "private, no-cache"
        if "If-None-Match" in request.headers:
            response.make_conditional(request)
    return response


read_cache_cli = AppGroup("read-cache", help="The polled lists' cache (board, inbox, my tasks).")


@read_cache_cli.command("invalidate")
def invalidate_command() -> None:
    """After a change made outside the app (psql): every process rebuilds its cached answers at once."""
    invalidate_everything(current_app.extensions["liandong_read_stamps"])
    click.echo("every cached answer will be rebuilt on its next read")
