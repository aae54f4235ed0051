"""The product's app (`wsgi:app`) plus one bare endpoint, for the benchmark's ceiling: `GET /bench/bare`.

The bare endpoint goes through the same gunicorn worker, Flask app, request hooks (request id,
tenant scope reset, access log) and SQLAlchemy session as every API call, and does one
primary-key read and one insert in one transaction, as the app role; no token, no tenant gate,
no marshmallow. Its table `bench_pings` exists only in the bench database (setup.py).
"""
from __future__ import annotations

from sqlalchemy import text

from app import create_app
from app.extensions import db

app = create_app()


@app.get("/bench/bare")
def bare():
    row = db.session.execute(text("SELECT id, at FROM bench_pings WHERE id = 1")).one_or_none()
    db.session.execute(text("INSERT INTO bench_pings (note) VALUES ('bare')"))
    db.session.commit()
    return {"seen": row is not None}
