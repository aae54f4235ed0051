"""Putting messages in people's outboxes. In-app (`inbox`) messages are delivered by being stored."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from app.blueprints.notifications.models import Notification
from app.blueprints.users.models import User
from app.common.listing import paginate
from app.common.models import utcnow
from app.common.roles import Role
from app.errors import NotFound
from app.extensions import db


def notify(*, tenant_id: int, recipients: list[User], kind: str, title: str, cause: str,
           body: str = "", data: dict | None = None) -> int:
    """Queue one inbox message per recipient in the current transaction; repeats of a cause are dropped."""
    rows = [dict(tenant_id=tenant_id, recipient_user_id=user.id, channel="inbox", kind=kind, title=title,
                 body=body, data=data or {}, dedupe_key=f"{kind}:{cause}:{user.id}", state="sent",
                 attempts=0, created_at=utcnow())
            for user in recipients]
    if not rows:
        return 0
    result = db.session.execute(insert(Notification).values(rows).on_conflict_do_nothing())
    return result.rowcount


def office_users(tenant_id: int) -> list[User]:
    """The linkage office: the tenant's active tenant admins."""
    return list(db.session.execute(
        select(User).where(User.tenant_id == tenant_id, User.is_active.is_(True),
                           User.roles.contains([Role.TENANT_ADMIN.value]))
    ).unique().scalars())


def inbox(*, user: User, pagination, unread_only: bool = False) -> list[Notification]:
    statement = select(Notification).where(Notification.recipient_user_id == user.id,
                                           Notification.channel == "inbox")
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return paginate(statement.order_by(Notification.created_at.desc()), pagination, tiebreak=Notification.id.desc())


def mark_read(*, user: User, notification_id: int) -> Notification:
    notification = db.session.execute(
        select(Notification).where(Notification.id == notification_id,
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
        update(Notification).where(Notification.recipient_user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount
