"""The quick start on a machine with no servers: embedded PostgreSQL and Redis, then /readyz."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager

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


@contextmanager
def launched(var_dir):
    """Run `python -m app.launcher` (the `make run` path) with no server URLs; yield (base URL, output)."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(VAR_DIR=str(var_dir), PORT=str(port), LIANDONG_ENV="development",
               ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="8192")
    launcher = subprocess.Popen([sys.executable, "-m", "app.launcher", "--no-worker", "--workers", "1"],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
    output = []
    try:
        for line in launcher.stdout:  # blocks until gunicorn reports its socket is bound
            output.append(line)
            if "Listening at:" in line:
                break
        assert launcher.poll() is None, "".join(output)
        yield f"http://127.0.0.1:{port}", output
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)


def test_make_run_path_starts_embedded_services_and_reuses_them(tmp_path):
    session = _patient_session()
    with launched(tmp_path / "var") as (base, output):
        ready = session.get(f"{base}/readyz", timeout=10)
        login = session.post(f"{base}/api/v1/auth/login",
                             json={"username": "office", "password": "Liandong-2026"}, timeout=10)
        assert ready.status_code == 200, "".join(output)
        assert ready.json() == {"database": "ok", "redis": "ok"}
        assert login.status_code == 200 and login.json()["user"]["tenant"]["code"] == "620602"
        assert "office" in "".join(output)  # the demo credentials were printed
        created = session.post(f"{base}/api/v1/t/620602/users", timeout=10,
                               headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                               json={"username": "kept-across-restarts", "display_name": "值班员",
                                     "password": "Kept-2026x", "roles": ["dispatcher"]})
        assert created.status_code == 201, created.text
    assert (tmp_path / "var" / "pg" / "PG_VERSION").exists()

    with launched(tmp_path / "var") as (base, output):
        again = session.post(f"{base}/api/v1/auth/login",
                             json={"username": "kept-across-restarts", "password": "Kept-2026x"}, timeout=10)
        assert again.status_code == 200, "".join(output)
