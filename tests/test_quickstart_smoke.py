"""The quick start on a machine with no servers: embedded PostgreSQL and Redis, then /readyz."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app.settings import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _patient_session() -> requests.Session:
    """Retries refused connections for up to ~60 s while gunicorn boots."""
    session = requests.Session()
    retry = Retry(total=None, connect=120, read=0, status=0, backoff_factor=0.1, backoff_max=0.5)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def test_make_run_path_starts_embedded_services_and_is_ready(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT=str(port), LIANDONG_ENV="development",
               ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="8192")
    launcher = subprocess.Popen([sys.executable, "-m", "app.launcher", "--no-worker", "--workers", "1"],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    output = []
    try:
        for line in launcher.stdout:  # blocks until the launcher reports it is serving
            output.append(line)
            if "Liandong is running" in line:
                break
        assert launcher.poll() is None, "".join(output)
        session = _patient_session()

        ready = session.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        login = session.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                             json={"username": "office", "password": "Liandong-2026"}, timeout=10)

        assert ready.status_code == 200, "".join(output)
        assert ready.json() == {"database": "ok", "redis": "ok"}
        assert login.status_code == 200 and login.json()["user"]["tenant"]["code"] == "620602"
        assert "office" in "".join(output)  # the demo credentials were printed
        assert (tmp_path / "var" / "pg" / "PG_VERSION").exists()
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)
