"""Decoding an upload holds no database transaction, connection or advisory lock: a slow decode must not
block another upload to the same instruction or of the same content."""
from __future__ import annotations

from sqlalchemy import text

from tests.media_support import District, district, jpeg, make_incident, media_root, upload  # noqa: F401
from tests.test_instruction_support import issue_one


def test_inspect_runs_before_the_transaction(app, client, district: District, media_root, owner_engine,
                                             monkeypatch):
    from app.blueprints.media import validation
    from app.extensions import db

    d = district
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    real_inspect = validation.inspect
    seen = {}

    def watched(*args, **kwargs):
        with owner_engine.connect() as connection:
            seen["advisory_locks"] = connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar_one()
            seen["idle_in_transaction"] = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'")).scalar_one()
        seen["session_in_transaction"] = db.session().in_transaction()
        return real_inspect(*args, **kwargs)

    monkeypatch.setattr(validation, "inspect", watched)
    response = upload(client, d, d.liaison, jpeg(), instruction_id=instruction["id"])
    assert response.status_code == 201, response.get_json()
    assert seen == {"advisory_locks": 0, "idle_in_transaction": 0, "session_in_transaction": False}
