"""Answering a write from what it just wrote.

By default the session expires every loaded object when it commits, so a route that serialises the
row it changed (or reads `current_user`'s roles, or `g.tenant`'s time zone) after the service's
commit reloads each of them: three or four more round trips per write, for values that are exactly
the ones the transaction just wrote. `keep_state_after_commit()` turns that off for the rest of the
request (the session is discarded when the request ends). Values the database computes itself are
still loaded on first access, as they are unloaded after the flush, not only after the commit.
"""
from __future__ import annotations

from app.extensions import db


def keep_state_after_commit() -> None:
    db.session().expire_on_commit = False
