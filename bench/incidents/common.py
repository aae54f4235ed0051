"""Shared by the lifecycle benchmark's steps: the throwaway database, its environment, the state file.

The database is created by `setup` and reused by every `run` until `drop`: loading a million
incidents takes minutes, and the machine is shared. Its name and the ids the load generator
needs (tenant code, units, users) are kept in var/bench/incidents-<db>.json.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.settings import PROJECT_ROOT, sqlalchemy_url

# Anchored at the working tree even when run from an exported source tree (source_tree()).
BENCH_VAR = Path(os.environ.get("LIANDONG_BENCH_VAR") or PROJECT_ROOT / "var" / "bench")
TENANT_CODE = "620602"
TENANT_NAME = "凉州区"
PASSWORD = "Liandong-Bench-2026"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"

# The units whose liaisons act in the load (short names in the Liangzhou template) and the
# desk. The past incidents use every unit of the district.
BENCH_UNITS = ["建设", "供电", "天然气", "民政", "质监", "水务", "市政", "城市执法"]


def server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server's owner URL, e.g. "
                         "postgresql://postgres@127.0.0.1:5432/postgres")
    return url


def database_url(name: str) -> str:
    return make_url(sqlalchemy_url(server_url())).set(database=name).render_as_string(hide_password=False)


def admin_engine():
    return create_engine(make_url(sqlalchemy_url(server_url())), isolation_level="AUTOCOMMIT",
                         poolclass=pool.NullPool)


def owner_engine(name: str, **kwargs):
    """The database owner's connection (no SET ROLE): bulk loading, VACUUM, EXPLAIN setup."""
    return create_engine(database_url(name), poolclass=pool.NullPool, **kwargs)


def state_path(name: str) -> Path:
    return BENCH_VAR / f"incidents-{name}.json"


def save_state(name: str, state: dict) -> None:
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    state_path(name).write_text(json.dumps(state, ensure_ascii=False, indent=2))


def load_state(name: str) -> dict:
    path = state_path(name)
    if not path.exists():
        raise SystemExit(f"{path} not found: run `python -m bench.incidents.setup --db {name}` first")
    return json.loads(path.read_text())


def app_environment(name: str, state: dict | None = None, *, production: bool = False) -> dict[str, str]:
    """The environment the app (in this process, or gunicorn) runs with against the bench database.

    Secrets are fixed per database (kept in the state file) so tokens survive a gunicorn restart;
    access tokens live long enough for a whole run. `production`: LIANDONG_ENV=production and the
    product's default log level (INFO, JSON lines), as a deployed server logs."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url(name),
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS,
        "ACCESS_TOKEN_MINUTES": "240",
        "VAR_DIR": str(BENCH_VAR / f"var-{name}"),
        "LIANDONG_BENCH_VAR": str(BENCH_VAR),
    })
    if production:
        env["LIANDONG_ENV"] = "production"
    else:
        env["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")
    if state is not None:
        env["SECRET_KEY"] = state["secret_key"]
        env["JWT_SECRET_KEY"] = state["jwt_secret_key"]
    return env


def new_secrets() -> dict[str, str]:
    return {"secret_key": secrets.token_hex(32), "jwt_secret_key": secrets.token_hex(32)}


def drop_database(name: str) -> None:
    engine = admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    path = state_path(name)
    if path.exists():
        path.unlink()


def source_tree() -> tuple[Path, str]:
    """The committed code (HEAD, or $LIANDONG_BENCH_COMMIT) exported to var/bench/src-<commit>, with this
    benchmark copied in.

    gunicorn and the migrations run from there, not from the working tree, which others edit while a
    run is going; the results name the commit. `python -m` puts the current directory first on
    sys.path, ahead of the editable install, so the exported `app` is the one imported."""
    # LIANDONG_BENCH_COMMIT measures another commit than HEAD (a before/after pair on the same data).
    commit = subprocess.run(["git", "rev-parse", os.environ.get("LIANDONG_BENCH_COMMIT") or "HEAD"],
                            cwd=PROJECT_ROOT, check=True, capture_output=True, text=True).stdout.strip()
    dest = BENCH_VAR / f"src-{commit[:12]}"
    if not dest.exists():
        partial = BENCH_VAR / f"src-{commit[:12]}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=PROJECT_ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(dest)
    here = Path(__file__).parent
    target = dest / "bench" / "incidents"
    target.mkdir(parents=True, exist_ok=True)
    for path in here.glob("*.py"):
        shutil.copy2(path, target / path.name)
    return dest, commit


def migrate(name: str, state: dict | None, source: Path) -> None:
    """`flask db upgrade` from the exported tree, as `make run` does before serving."""
    import sys

    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "--directory", "migrations"],
                   cwd=source, env=app_environment(name, state), check=True)
