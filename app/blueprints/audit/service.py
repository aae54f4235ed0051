"""Writing audit events onto their hash chain, and verifying the chains."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import g, has_request_context, request
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, SessionTransaction

from app.blueprints.audit.models import AuditChainHead, AuditEvent, PlatformAuditEvent, PlatformAuditHead
from app.common.models import utcnow
from app.extensions import db

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


def chain_key(tenant_id: int | None) -> str:
    return PLATFORM_CHAIN if tenant_id is None else f"tenant:{tenant_id}"


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _iso(moment: datetime) -> str:
    # Normalise to UTC: PostgreSQL returns timestamptz in the session's time zone.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(*, tenant_id: int | None, seq: int, occurred_at: datetime, action: str,
               actor_user_id: int | None, actor_username: str | None, target_type: str | None,
               target_id: str | None, before, after, request_id: str | None, ip: str | None,
               prev_hash: str) -> str:
    payload = _canonical([
        tenant_id, seq, _iso(occurred_at), action, actor_user_id, actor_username,
        target_type, target_id, before, after, request_id, ip, prev_hash,
    ])
    return hashlib.sha256(payload.encode()).hexdigest()


def _hash_of(row, tenant_id: int | None) -> str:
    return event_hash(
        tenant_id=tenant_id, seq=row.seq, occurred_at=row.occurred_at, action=row.action,
        actor_user_id=row.actor_user_id, actor_username=row.actor_username,
        target_type=row.target_type, target_id=row.target_id, before=row.before, after=row.after,
        request_id=row.request_id, ip=row.ip, prev_hash=row.prev_hash,
    )


def _lock_head(session: Session, tenant_id: int | None):
    """Lock the chain head for this transaction: appends to one chain are serialised. The head exists from
    a chain's first event on, so it is locked first and created only when missing (one statement, not two,
    for every write after the first)."""
    if tenant_id is None:
        model, key, values = PlatformAuditHead, PlatformAuditHead.id == 1, {"id": 1}
    else:
        model, key, values = AuditChainHead, AuditChainHead.tenant_id == tenant_id, {"tenant_id": tenant_id}
    locked = select(model).where(key).with_for_update()
    head = session.execute(locked).scalar_one_or_none()
    if head is None:
        # Two first writers may race here: one inserts, the other's insert does nothing; both then lock it.
        session.execute(insert(model).values(**values, last_seq=0, last_hash=GENESIS_HASH).on_conflict_do_nothing())
        head = session.execute(locked).scalar_one()
    return head


# Events recorded in a transaction wait in `session.info[_PENDING]` and are sealed onto their chain just
# before the transaction commits (`_seal`): one chain-head lock per transaction, whatever the number of
# events (a reminder batch records hundreds), held only for the final flush and commit rather than from
# the first event on; the head row is every write's one point of contention within a tenant.
_PENDING = "audit_pending"


@dataclass
class _Pending:
    tenant_id: int | None
    fields: dict
    transaction: SessionTransaction  # innermost at record time: a savepoint rolled back drops its events


def record(action: str, *, tenant_id: int | None, actor=None, target_type: str | None = None,
           target_id=None, before: dict | None = None, after: dict | None = None,
           actor_username: str | None = None) -> None:
    """Append one event to its tenant's chain (or the platform chain) when the current transaction
    commits; if it rolls back, the event is gone with it."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    # JSON round trip: what is hashed must be exactly what JSONB gives back.
    fields = dict(
        action=action,
        actor_user_id=getattr(actor, "id", None),
        actor_username=getattr(actor, "username", None) or actor_username,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=json.loads(_canonical(before)) if before is not None else None,
        after=json.loads(_canonical(after)) if after is not None else None,
        request_id=g.get("request_id") if has_request_context() else None,
        ip=request.remote_addr if has_request_context() else None,
    )
    session.info.setdefault(_PENDING, []).append(_Pending(tenant_id, fields, transaction))


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    """Lock each chain head once, number and hash the transaction's events in order, add them."""
    if session.in_nested_transaction():
        return  # a savepoint released: its events wait for the real commit
    pending: list[_Pending] = session.info.pop(_PENDING, None) or []
    if not pending:
        return
    session.flush()  # the rows the events name (a new tenant, a new user) go first: foreign keys
    chains: dict[int | None, list[dict]] = {}
    for entry in pending:
        chains.setdefault(entry.tenant_id, []).append(entry.fields)
    for tenant_id, events in chains.items():
        head = _lock_head(session, tenant_id)
        rows = []
        for fields in events:
            fields = dict(fields, seq=head.last_seq + 1, occurred_at=utcnow(), prev_hash=head.last_hash)
            digest = event_hash(tenant_id=tenant_id, **fields)
            rows.append(dict(fields, hash=digest) if tenant_id is None
                        else dict(fields, tenant_id=tenant_id, hash=digest))
            head.last_seq, head.last_hash = fields["seq"], digest
        # Core executemany, not ORM objects: nothing reads them back in this transaction, and without
        # RETURNING the driver pipelines one small prepared statement.
        table = (PlatformAuditEvent if tenant_id is None else AuditEvent).__table__
        session.execute(insert(table), rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_unsealed(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)  # rolled back or closed: its events are gone with it


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    pending: list[_Pending] | None = session.info.get(_PENDING)
    if not pending or not rolled_back.nested:
        return

    def inside(transaction: SessionTransaction | None) -> bool:
        while transaction is not None:
            if transaction is rolled_back:
                return True
            transaction = transaction.parent
        return False

    session.info[_PENDING] = [entry for entry in pending if not inside(entry.transaction)]


@dataclass
class ChainReport:
    chain: str
    events: int
    problems: list[str]

    @property
    def is_intact(self) -> bool:
        return not self.problems


def verify_chain(tenant_id: int | None) -> ChainReport:
    """Walk one chain: every hash recomputes, links to its predecessor, and no seq is missing."""
    chain = chain_key(tenant_id)
    model = PlatformAuditEvent if tenant_id is None else AuditEvent
    query = select(model).order_by(model.seq)
    if tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == tenant_id)
    problems: list[str] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in db.session.execute(query.execution_options(yield_per=1000)).scalars():
        count += 1
        if row.seq != expected_seq:
            problems.append(f"seq {expected_seq}..{row.seq - 1} missing (deleted rows)")
        if row.prev_hash != prev_hash:
            problems.append(f"seq {row.seq}: does not link to its predecessor")
        if _hash_of(row, tenant_id) != row.hash:
            problems.append(f"seq {row.seq}: content changed (hash mismatch)")
        expected_seq, prev_hash = row.seq + 1, row.hash
    head = db.session.get(PlatformAuditHead, 1) if tenant_id is None else db.session.get(AuditChainHead, tenant_id)
    if head is not None and head.last_seq != expected_seq - 1:
        problems.append(f"head is at seq {head.last_seq} but the chain ends at {expected_seq - 1} "
                        "(newest rows deleted)")
    if head is not None and head.last_seq == expected_seq - 1 and head.last_hash != prev_hash:
        problems.append(f"seq {head.last_seq}: differs from the hash the head recorded")
    return ChainReport(chain=chain, events=count, problems=problems)


def list_events(*, tenant_id: int, pagination, action: str | None = None,
                actor_user_id: int | None = None, target_type: str | None = None,
                target_id: str | None = None, since=None, until=None) -> list[AuditEvent]:
    from app.common.listing import paginate

    statement = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if action:
        statement = statement.where(AuditEvent.action.startswith(action, autoescape=True)
                                    if action.endswith(".") else AuditEvent.action == action)
    if actor_user_id is not None:
        statement = statement.where(AuditEvent.actor_user_id == actor_user_id)
    if target_type:
        statement = statement.where(AuditEvent.target_type == target_type)
    if target_id:
        statement = statement.where(AuditEvent.target_id == target_id)
    if since is not None:
        statement = statement.where(AuditEvent.occurred_at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.occurred_at < until)
    return paginate(statement.order_by(AuditEvent.seq.desc()), pagination)
