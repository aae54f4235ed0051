"""`python -m app.launcher`: the quick start behind `make run`.

One process owns the embedded PostgreSQL and Redis (when DATABASE_URL/REDIS_URL
are unset), migrates, seeds the demo district, then runs the API (gunicorn) and
the worker as children until interrupted.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from app.settings import PROJECT_ROOT, Settings


def prepare(*, seed: bool) -> Settings:
    from app import create_app, embedded

    settings = Settings.from_env()
    embedded.ensure_services(settings.var_dir)
    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        if seed:
            from app.demo import DEMO_CODE, DEMO_NAME, seed as seed_demo

            accounts = seed_demo()
            print(f"\nDemo district {DEMO_CODE} {DEMO_NAME}. Log in with (username / password / roles):")
            for username, password, roles in accounts:
                print(f"  {username:<14} {password:<14} {roles}")
    return Settings.from_env()


def gunicorn_command(host: str, port: int, workers: int, app: str = "wsgi:app") -> list[str]:
    """How the API is served; bench/incidents/lifecycle.py starts gunicorn with this same command line."""
    return [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--access-logfile", "-", app]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-seed", action="store_true", help="do not seed the demo district")
    parser.add_argument("--no-worker", action="store_true", help="run the API only")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    args = parser.parse_args(argv)

    settings = prepare(seed=not args.no_seed)
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ)
    children = [subprocess.Popen(gunicorn_command(host, settings.port, args.workers), cwd=PROJECT_ROOT, env=env)]
    if not args.no_worker:
        children.append(subprocess.Popen([sys.executable, "-m", "worker"], cwd=PROJECT_ROOT, env=env))
    print(f"\nLiandong is running: http://{host}:{settings.port}/  API docs: "
          f"http://{host}:{settings.port}/api/docs  (Ctrl-C stops)\n", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)  # supervising children: nothing to wait on but their exit or a signal
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
    failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    sys.exit(main())
