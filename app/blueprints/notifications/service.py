"""Putting messages in the outbox, and the office's view of deliveries and endpoints.

`notify` writes in-app messages only (delivered by being stored). `send` fans one message out to
every channel a recipient can be reached on: inbox, SMS (the tenant's gateway, or the log-only driver
in development), the unit's webhook, and the unit's or office's mailbox. Rows are written in the
caller's transaction; the caller starts delivery after commit (`jobs.kick`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from app.blueprints.audit import service as audit
from app.blueprints.notifications.models import EXTERNAL, Channel, DeliveryState, Endpoint, Notification
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common.listing import paginate
from app.common.models import utcnow
from app.common.roles import Role
from app.database import unit_of_work
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db


def settings():
    return current_app.extensions["liandong_settings"]


def notify(*, tenant_id: int, recipients: list[User], kind: str, title: str, cause: str,
           body: str = "", data: dict | None = None) -> int:
    """Queue one inbox message per recipient in the current transaction; repeats of a cause are dropped."""
    now = utcnow()
    rows = [dict(tenant_id=tenant_id, recipient_user_id=user.id, channel="inbox", kind=kind, title=title,
                 body=body, data=data or {}, dedupe_key=f"{kind}:{cause}:{user.id}"[:200], state="sent",
                 attempts=0, created_at=now, sent_at=now)
            for user in recipients]
    if not rows:
        return 0
    result = db.session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
    return result.rowcount


@dataclass
class Sent:
    """What `send` wrote: rows per channel (repeats of a cause not counted)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def has_external(self) -> bool:
        return any(self.counts.get(channel.value) for channel in EXTERNAL)


def _endpoints(tenant_id: int, unit_id: int | None) -> dict[tuple[str, int | None], Endpoint]:
    rows = db.session.execute(select(Endpoint).where(
        Endpoint.tenant_id == tenant_id, Endpoint.is_enabled.is_(True),
        (Endpoint.unit_id.is_(None)) | (Endpoint.unit_id == unit_id))).scalars()
    return {(row.channel, row.unit_id): row for row in rows}


def compose(*, tenant_id: int, users: list[User], kind: str, cause: str, title: str, body: str,
            data: dict | None = None, unit_id: int | None = None, to_unit: bool = False,
            to_office_mailbox: bool = False, endpoints: dict | None = None, inbox: bool = True) -> list[dict]:
    """The outbox rows of one message (see `send`), not yet written: batches write many at once."""
    now = utcnow()
    data = data or {}
    endpoints = endpoints if endpoints is not None else _endpoints(tenant_id, unit_id)
    has_sms = (Channel.SMS.value, None) in endpoints or settings().sms_driver == "log"
    base = dict(tenant_id=tenant_id, kind=kind, title=title, body=body, data=data, attempts=0, created_at=now)
    rows = []
    for user in {user.id: user for user in users}.values():
        if inbox:
            rows.append(dict(base, recipient_user_id=user.id, unit_id=None, channel=Channel.INBOX.value,
                             address=None, dedupe_key=f"{kind}:{cause}:inbox:{user.id}"[:200],
                             state=DeliveryState.SENT.value, sent_at=now, next_attempt_at=None))
        if has_sms and user.phone:
            rows.append(dict(base, recipient_user_id=user.id, unit_id=None, channel=Channel.SMS.value,
                             address=user.phone, dedupe_key=f"{kind}:{cause}:sms:{user.id}"[:200],
                             state=DeliveryState.PENDING.value, sent_at=None, next_attempt_at=now))
    external = []
    if to_unit and unit_id is not None:
        external += [(Channel.WEBHOOK, endpoints.get((Channel.WEBHOOK.value, unit_id)), f"unit{unit_id}"),
                     (Channel.EMAIL, endpoints.get((Channel.EMAIL.value, unit_id)), f"unit{unit_id}")]
    if to_office_mailbox:
        external.append((Channel.EMAIL, endpoints.get((Channel.EMAIL.value, None)), "office"))
    for channel, endpoint, who in external:
        if endpoint is not None:
            rows.append(dict(base, recipient_user_id=None, unit_id=endpoint.unit_id, channel=channel.value,
                             address=endpoint.target, dedupe_key=f"{kind}:{cause}:{channel}:{who}"[:200],
                             state=DeliveryState.PENDING.value, sent_at=None, next_attempt_at=now))
    return rows


def counts_of(rows: list[dict]) -> Sent:
    sent = Sent()
    for row in rows:
        sent.counts[row["channel"]] = sent.counts.get(row["channel"], 0) + 1
    return sent


def write(rows: list[dict]) -> Sent:
    """Insert outbox rows (repeats of a dedupe key dropped); what was written, by channel."""
    sent = Sent()
    if len(rows) == 1 or len({frozenset(row) for row in rows}) > 1:
        for row in rows:
            written = db.session.execute(insert(Notification).values(row).on_conflict_do_nothing()
                                         .returning(Notification.channel)).scalars().all()
            for channel in written:
                sent.counts[channel] = sent.counts.get(channel, 0) + 1
        return sent
    if rows:
        # Many rows of one shape: one small cached statement, sent by the driver's pipelined executemany.
        # No RETURNING: with it SQLAlchemy builds one multi-VALUES statement of thousands of parameters
        # per page, and converting that text costs the driver more than the database's work. The counts
        # are of the rows offered; a repeat of a dedupe key (a cause already notified) is dropped by the
        # database and counted here all the same.
        db.session.execute(insert(Notification.__table__).on_conflict_do_nothing(), rows)
        return counts_of(rows)
    return sent


def send(**message) -> Sent:
    """One message to people (inbox, and SMS where they have a phone) and, when `to_unit`, to the
    unit's webhook and mailbox; `to_office_mailbox` adds the linkage office's mailbox.

    The dedupe key is `<kind>:<cause>:<channel>:<who>`: firing the same step twice writes nothing twice.
    `inbox=False` leaves the in-app message to a caller that writes its own.
    """
    return write(compose(**message))


def office_users(tenant_id: int) -> list[User]:
    """The linkage office: the tenant's active tenant admins."""
    return users_with_role(tenant_id, Role.TENANT_ADMIN)


def users_with_role(tenant_id: int, role: Role, unit_id: int | None = None) -> list[User]:
    statement = select(User).where(User.tenant_id == tenant_id, User.is_active.is_(True),
                                   User.roles.contains([role.value]))
    if unit_id is not None:
        statement = statement.where(User.unit_id == unit_id)
    return list(db.session.execute(statement.order_by(User.id)).unique().scalars())


# ---------------------------------------------------------------- the inbox

def inbox(*, user: User, pagination, unread_only: bool = False) -> list[Notification]:
    statement = select(Notification).where(Notification.recipient_user_id == user.id,
                                           Notification.channel == "inbox")
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return paginate(statement.order_by(Notification.created_at.desc()), pagination, tiebreak=Notification.id.desc())


def unread_count(*, user: User) -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.recipient_user_id == user.id, Notification.channel == "inbox",
        Notification.read_at.is_(None))).scalar_one()


def mark_read(*, user: User, notification_id: int) -> Notification:
    notification = db.session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.channel == "inbox",
                                   Notification.recipient_user_id == user.id)
    ).scalar_one_or_none()
    if notification is None:
        raise NotFound("notification_not_found", "No such message.")
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()
    return notification


def mark_all_read(*, user: User) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.recipient_user_id == user.id, Notification.channel == "inbox",
                                   Notification.read_at.is_(None))
        .values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount


# ---------------------------------------------------------------- the office: deliveries

def deliveries(*, pagination, state: str | None = None, channel: str | None = None) -> list[Notification]:
    """External deliveries (SMS, webhook, e-mail), newest first; `state=failed` is the office's worry list."""
    statement = select(Notification).where(Notification.channel.in_([c.value for c in EXTERNAL]))
    if state is not None:
        statement = statement.where(Notification.state == state)
    if channel is not None:
        statement = statement.where(Notification.channel == channel)
    return paginate(statement.order_by(Notification.created_at.desc()), pagination, tiebreak=Notification.id.desc())


def retry(*, notification_id: int, actor) -> Notification:
    """Send a failed delivery again: a fresh round of attempts, delivered by the next delivery job."""
    from app.blueprints.notifications import jobs

    with unit_of_work() as uow:
        row = db.session.execute(select(Notification).where(
            Notification.id == notification_id, Notification.channel.in_([c.value for c in EXTERNAL]))
            .with_for_update()).scalar_one_or_none()
        if row is None:
            raise NotFound("delivery_not_found", "No such delivery.")
        if row.state != DeliveryState.FAILED.value:
            raise Conflict("delivery_not_failed", f"Only a failed delivery is retried; this one is {row.state}.")
        before = {"state": row.state, "attempts": row.attempts, "last_error": row.last_error}
        row.state, row.attempts, row.next_attempt_at = DeliveryState.PENDING.value, 0, utcnow()
        audit.record("notification.retried", tenant_id=row.tenant_id, actor=actor, target_type="notification",
                     target_id=row.id, before=before, after={"state": row.state, "attempts": 0})
        uow.after_commit(jobs.kick, row.tenant_id)
    return row


# ---------------------------------------------------------------- the office: endpoints

def endpoints(*, tenant_id: int) -> list[Endpoint]:
    return list(db.session.execute(select(Endpoint).where(Endpoint.tenant_id == tenant_id)
                                   .order_by(Endpoint.channel, Endpoint.unit_id.nulls_first())).scalars())


def _snapshot(row: Endpoint) -> dict:
    # The secret itself never goes into the audit chain.
    return {"channel": row.channel, "unit_id": row.unit_id, "target": row.target, "is_enabled": row.is_enabled,
            "has_secret": row.secret is not None}


def put_endpoint(*, tenant_id: int, actor, channel: str, unit_id: int | None, target: str,
                 secret: str | None = None, is_enabled: bool = True) -> Endpoint:
    """Set where a channel delivers: the SMS gateway (no unit), a unit's webhook (signed: a secret is
    required the first time), a unit's or the office's (no unit) mailbox."""
    channel = Channel(channel)
    if channel == Channel.SMS and unit_id is not None:
        raise Unprocessable("sms_gateway_per_tenant", "The SMS gateway is the district's, not a unit's.",
                            errors={"unit_id": ["Leave out for sms."]})
    if channel == Channel.WEBHOOK and unit_id is None:
        raise Unprocessable("webhook_needs_unit", "A webhook belongs to a unit.", errors={"unit_id": ["Required."]})
    with unit_of_work():
        if unit_id is not None and db.session.execute(select(Unit.id).where(Unit.id == unit_id)).first() is None:
            raise Unprocessable("unit_not_found", "No such unit.", errors={"unit_id": ["Unknown unit."]})
        row = db.session.execute(select(Endpoint).where(
            Endpoint.tenant_id == tenant_id, Endpoint.channel == channel.value,
            Endpoint.unit_id.is_(None) if unit_id is None else Endpoint.unit_id == unit_id)
            .with_for_update()).scalar_one_or_none()
        before = _snapshot(row) if row is not None else None
        if row is None:
            row = Endpoint(tenant_id=tenant_id, channel=channel.value, unit_id=unit_id)
            db.session.add(row)
        row.target, row.is_enabled = target, is_enabled
        if secret is not None:
            row.secret = secret
        if channel == Channel.WEBHOOK and row.secret is None:
            raise Unprocessable("webhook_secret_required", "A webhook is signed: give a secret.",
                                errors={"secret": ["Required for a new webhook."]})
        db.session.flush()
        if _snapshot(row) != before or secret is not None:
            audit.record("notification_endpoint.updated", tenant_id=tenant_id, actor=actor,
                         target_type="notification_endpoint", target_id=row.id, before=before,
                         after={**_snapshot(row), "secret_changed": secret is not None})
    return row
