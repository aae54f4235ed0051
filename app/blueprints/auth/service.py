"""Login, token rotation, revocation and password changes.

Access tokens are short-lived and name their refresh family (`fam`) and the
user's `token_version` (`tv`); every request re-checks both against PostgreSQL
(`check_token`), so logout and password changes take effect at once and survive
any Redis restart.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, get_jti
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.blueprints.audit import service as audit
from app.blueprints.auth.models import TokenFamily
from app.blueprints.auth.passwords import hash_password, needs_rehash, verify_password
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common.models import utcnow
from app.errors import Forbidden, Locked, Unauthorized
from app.extensions import db
from app.tenants.context import narrow

INVALID_CREDENTIALS = Unauthorized("invalid_credentials", "Wrong username or password.")


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _settings():
    return current_app.extensions["liandong_settings"]


def _issue(user: User, family: TokenFamily) -> dict:
    settings = _settings()
    claims = {"tv": user.token_version, "fam": str(family.id), "tid": user.tenant_id}
    access = create_access_token(identity=str(user.id), additional_claims={**claims, "roles": user.roles},
                                 expires_delta=timedelta(minutes=settings.access_token_minutes))
    refresh = create_refresh_token(identity=str(user.id), additional_claims=claims,
                                   expires_delta=timedelta(days=settings.refresh_token_days))
    family.current_jti = get_jti(refresh)
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": settings.access_token_minutes * 60,
        "user": user,
    }


def _new_family(user: User) -> TokenFamily:
    family = TokenFamily(id=uuid.uuid4(), user_id=user.id, current_jti="",
                         expires_at=utcnow() + timedelta(days=_settings().refresh_token_days))
    db.session.add(family)
    return family


def login(*, username: str, password: str) -> dict:
    settings = _settings()
    username = normalize_username(username)
    narrow(login_username=username)
    user = db.session.execute(
        select(User).where(User.username == username).with_for_update(of=User)
    ).unique().scalar_one_or_none()
    if user is None:
        verify_password(None, password)  # same cost as a real check: no username oracle by timing
        audit.record("auth.login_failed", tenant_id=None, actor_username=username,
                     after={"reason": "unknown_username"})
        db.session.commit()
        raise INVALID_CREDENTIALS
    narrow(user_id=user.id, login_username=None,
           tenant_ids=frozenset({user.tenant_id}) if user.tenant_id else frozenset())

    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        audit.record("auth.login_failed", tenant_id=user.tenant_id, actor=user, after={"reason": "locked"})
        db.session.commit()
        retry_after = int((user.locked_until - now).total_seconds()) + 1
        raise Locked("account_locked",
                     f"Too many failed logins; try again in {retry_after // 60 + 1} minutes.",
                     headers={"Retry-After": str(retry_after)})

    if not verify_password(user.password_hash, password):
        user.failed_login_count += 1
        reason = "wrong_password"
        if user.failed_login_count >= settings.lockout_threshold:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_login_count = 0
            reason = "locked_out"
        audit.record("auth.login_failed", tenant_id=user.tenant_id, actor=user, after={"reason": reason})
        db.session.commit()
        raise INVALID_CREDENTIALS

    if not user.is_active:
        audit.record("auth.login_failed", tenant_id=user.tenant_id, actor=user, after={"reason": "disabled"})
        db.session.commit()
        raise Forbidden("account_disabled", "This account is disabled.")
    if user.tenant is not None and not user.tenant.is_active:
        raise Forbidden("tenant_suspended", "This district's account is suspended.")

    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    family = _new_family(user)
    db.session.flush()
    tokens = _issue(user, family)
    audit.record("auth.login_succeeded", tenant_id=user.tenant_id, actor=user)
    db.session.commit()
    return tokens


def check_token(payload: dict) -> bool:
    """True when the token must be refused: unknown or disabled user, old token version, revoked family,
    or a user no longer in the tenant the token names.

    One query: the user (with its tenant and unit, joined) and the token's family. The scope is set
    before it, from the token's own claims (`sub`, `tid`: signed by us), so the transaction opens with
    the request's final settings and nothing has to be re-sent; the row read must then agree with them.
    """
    try:
        user_id = int(payload["sub"])
        family_id = uuid.UUID(payload["fam"])
        token_version = int(payload["tv"])
        tenant_id = payload.get("tid")
        tenant_id = None if tenant_id is None else int(tenant_id)
    except (KeyError, TypeError, ValueError):
        return True
    # Outside /t/<code>/ paths a user acts in their own tenant (the gate narrows further on tenant paths).
    narrow(user_id=user_id, tenant_ids=frozenset({tenant_id}) if tenant_id is not None else frozenset())
    row = db.session.execute(
        select(User, TokenFamily).join(TokenFamily, TokenFamily.user_id == User.id)
        .where(User.id == user_id, TokenFamily.id == family_id)
        # The unit comes along (joined); its duty list only if someone reads it.
        .options(joinedload(User.unit).lazyload(Unit.responsibilities))
    ).unique().first()
    if row is None:
        return True
    user, family = row
    if not user.is_active or user.token_version != token_version or family.is_revoked:
        return True
    if user.tenant_id != tenant_id:
        return True  # never happens today (users do not move between tenants); refuse rather than guess
    g.token_user = user
    g.token_family = family
    return False


def refresh(*, user: User, payload: dict) -> dict:
    """Rotate the refresh token; a replayed one revokes its whole family."""
    family = db.session.execute(
        select(TokenFamily).where(TokenFamily.id == uuid.UUID(payload["fam"])).with_for_update()
    ).scalar_one()
    if payload["jti"] != family.current_jti and not _is_retry(family, payload["jti"]):
        _revoke_family(family, reason="reuse")
        audit.record("auth.refresh_reused", tenant_id=user.tenant_id, actor=user,
                     after={"family": str(family.id)})
        db.session.commit()
        raise Unauthorized("refresh_token_reused",
                           "This refresh token was already used; all sessions from that login are ended.")
    family.previous_jti = family.current_jti if payload["jti"] == family.current_jti else family.previous_jti
    family.rotated_at = utcnow()
    tokens = _issue(user, family)
    db.session.commit()
    return tokens


def _is_retry(family: TokenFamily, jti: str) -> bool:
    """The refresh token rotated out moments ago: the client never got our answer and retried."""
    grace = timedelta(seconds=_settings().refresh_retry_grace_seconds)
    return (jti == family.previous_jti and family.rotated_at is not None
            and utcnow() - family.rotated_at <= grace)


def _revoke_family(family: TokenFamily, *, reason: str) -> None:
    if family.revoked_at is None:
        family.revoked_at = utcnow()
        family.revoked_reason = reason


def revoke_all_families(user: User, *, reason: str) -> None:
    db.session.execute(
        update(TokenFamily)
        .where(TokenFamily.user_id == user.id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def logout(*, user: User, family: TokenFamily) -> None:
    _revoke_family(family, reason="logout")
    audit.record("auth.logout", tenant_id=user.tenant_id, actor=user)
    db.session.commit()


def change_own_password(*, user: User, current_password: str, new_password: str) -> dict:
    if not verify_password(user.password_hash, current_password):
        audit.record("auth.password_change_failed", tenant_id=user.tenant_id, actor=user)
        db.session.commit()
        raise Unauthorized("invalid_credentials", "The current password is wrong.")
    set_password(user, new_password, reason="password_changed", field="new_password")
    audit.record("auth.password_changed", tenant_id=user.tenant_id, actor=user,
                 target_type="user", target_id=user.id)
    family = _new_family(user)
    db.session.flush()
    tokens = _issue(user, family)
    db.session.commit()
    return tokens


def set_password(user: User, new_password: str, *, reason: str, field: str = "password") -> None:
    """Set a password and end every session the user had."""
    user.password_hash = hash_password(new_password, field=field)
    user.password_changed_at = utcnow()
    user.token_version += 1
    user.failed_login_count = 0
    user.locked_until = None
    revoke_all_families(user, reason=reason)
