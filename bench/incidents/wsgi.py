"""The product's app (`wsgi:app`) plus one bare endpoint, for the benchmark's ceiling: `GET /bench/bare`.

The bare endpoint is the issue's "bare ORM endpoint": it goes through the same gunicorn worker, Flask
app, request hooks (request id, tenant scope reset, access log) and SQLAlchemy session as every API
call, and in one transaction, as the app role, reads one row by primary key (`Session.get`) and inserts
one (`Session.add`, flushed at commit, its id returned); no token, no tenant gate, no marshmallow. Its
table `bench_pings` exists only in the bench database (setup.py), and its mapping lives in a registry of
its own so the product's metadata (migrations, drift checks) never sees it.

Until 2026-11-30 it ran the same two statements as text SQL without the ORM (about a third cheaper in
the app process): results before then were measured against that lighter ceiling.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app import create_app
from app.extensions import db

app = create_app()


class _BenchBase(DeclarativeBase):
    pass


class BenchPing(_BenchBase):
    __tablename__ = "bench_pings"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str] = mapped_column(String)


@app.get("/bench/bare")
def bare():
    seen = db.session.get(BenchPing, 1)
    db.session.add(BenchPing(note="bare"))
    db.session.commit()
    return {"seen": seen is not None}
