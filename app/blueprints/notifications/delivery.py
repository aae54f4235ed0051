"""Delivering the outbox's external rows: claim a batch, send outside any transaction, record.

At least once, duplicates bounded: a claim commits `attempts + 1` and a lease (`next_attempt_at =
now + NOTIFY_LEASE_SECONDS`) before anything is sent. A worker that dies mid-send leaves the row
pending; it is sent again when the lease runs out, with the same idempotency key (the row's dedupe
key), which the SMS gateway and the unit's webhook use to drop the repeat. Only a death between the
channel accepting a message and the result being recorded can repeat it, at most once per attempt.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate

import urllib3
from flask import current_app
from sqlalchemy import literal_column, select, text
from sqlalchemy.exc import OperationalError

from app.blueprints.notifications.models import Channel, DeliveryState, Endpoint, Notification
from app.blueprints.notifications.service import settings
from app.common.models import utcnow
from app.extensions import db
from app.tenants.models import Tenant

log = logging.getLogger(__name__)

# Statuses worth another try: the gateway is busy or down, not refusing the message itself.
RETRYABLE_HTTP = frozenset({408, 409, 425, 429})


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    address: str
    attempts: int
    kind: str
    title: str
    body: str
    data: dict
    dedupe_key: str
    created_at: str
    secret: str | None      # the webhook's / gateway's HMAC key
    gateway_url: str | None  # sms only; None: the log-only driver


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None
    permanent: bool = False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 over `<timestamp>.<body>` (docs/reminders.md shows how to verify)."""
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    s = settings()
    return timedelta(seconds=min(s.notify_backoff_seconds * 2 ** max(attempts - 1, 0), s.notify_backoff_max_seconds))


# ---------------------------------------------------------------- claim and record

def claim(tenant_id: int, limit: int) -> list[Claimed]:
    """Due pending rows of one tenant, locked past other workers, leased, committed."""
    now = utcnow()
    rows = list(db.session.execute(select(Notification).where(
        Notification.tenant_id == tenant_id, literal_column("notifications.state") == literal_column("'pending'"),
        Notification.next_attempt_at <= now).order_by(Notification.next_attempt_at).limit(limit)
        .with_for_update(skip_locked=True)).scalars())
    if not rows:
        db.session.rollback()
        return []
    endpoints = {(e.channel, e.unit_id): e for e in db.session.execute(select(Endpoint).where(
        Endpoint.tenant_id == tenant_id, Endpoint.is_enabled.is_(True))).scalars()}
    tenant = db.session.get(Tenant, tenant_id)
    lease = now + timedelta(seconds=settings().notify_lease_seconds)
    claimed = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = lease
        gateway = endpoints.get((Channel.SMS.value, None))
        endpoint = (gateway if row.channel == Channel.SMS.value
                    else endpoints.get((row.channel, row.unit_id)))
        claimed.append(Claimed(
            id=row.id, channel=row.channel, address=row.address or "", attempts=row.attempts, kind=row.kind,
            title=row.title, body=row.body, data={**row.data, "tenant_code": tenant.code},
            dedupe_key=f"{tenant.code}:{row.dedupe_key}", created_at=row.created_at.isoformat(),
            secret=endpoint.secret if endpoint is not None else None,
            gateway_url=gateway.target if gateway is not None and row.channel == Channel.SMS.value else None))
    db.session.commit()
    return claimed


# One statement for the batch, the outcomes as arrays joined on id (not one UPDATE per row by key: under
# RLS the planner may take the tenant's pending-rows index and filter on id, a scan per row; see
# reminders.firing._SETTLE).
_RECORD = text(
    "UPDATE notifications AS n SET state = v.state, sent_at = v.sent_at, next_attempt_at = v.next_at, "
    "last_error = v.error "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:attempts AS int[]), CAST(:states AS text[]), "
    "CAST(:sent_at AS timestamptz[]), CAST(:next_at AS timestamptz[]), CAST(:errors AS text[])) "
    "AS v(id, attempts, state, sent_at, next_at, error) "
    "WHERE n.tenant_id = :tenant_id AND n.id = v.id AND n.attempts = v.attempts AND n.state = 'pending'")


def record(results: list[tuple[Claimed, Outcome]], tenant_id: int) -> dict:
    """Write what happened, in one multi-row statement; a row someone else re-claimed meanwhile (its lease
    ran out, so `attempts` moved on) is left to them."""
    now = utcnow()
    max_attempts = settings().notify_max_attempts
    counts = {"sent": 0, "retry": 0, "failed": 0}
    next_retry = None
    params = []
    for item, outcome in results:
        row = dict(t_id=tenant_id, n_id=item.id, n_attempts=item.attempts, new_sent_at=None, new_next=None,
                   new_error=outcome.error)
        if outcome.ok:
            row.update(new_state=DeliveryState.SENT.value, new_sent_at=now, new_error=None)
            counts["sent"] += 1
        elif outcome.permanent or item.attempts >= max_attempts:
            row.update(new_state=DeliveryState.FAILED.value)
            counts["failed"] += 1
        else:
            when = now + backoff(item.attempts)
            row.update(new_state=DeliveryState.PENDING.value, new_next=when)
            next_retry = min(next_retry or when, when)
            counts["retry"] += 1
        params.append(row)
    if params:
        db.session.execute(_RECORD, {
            "tenant_id": tenant_id, "ids": [p["n_id"] for p in params], "attempts": [p["n_attempts"] for p in params],
            "states": [p["new_state"] for p in params], "sent_at": [p["new_sent_at"] for p in params],
            "next_at": [p["new_next"] for p in params], "errors": [p["new_error"] for p in params]})
    db.session.commit()
    counts["next_retry_at"] = next_retry
    return counts


def _record_surely(results: list[tuple[Claimed, Outcome]], tenant_id: int, *, patience: float = 30.0) -> dict:
    """`record`, retried while the database is unreachable (a restart, a failover): the messages have
    gone out, and if their outcome were lost they would wait out their lease and be sent again."""
    delay, deadline = 0.2, time.monotonic() + patience
    while True:
        try:
            return record(results, tenant_id)
        except OperationalError:
            db.session.rollback()
            if time.monotonic() + delay > deadline:
                raise  # the lease still stands behind them: they are retried, with the same idempotency key
            log.warning("could not record deliveries; retrying", extra={"tenant_id": tenant_id, "rows": len(results)})
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


# ---------------------------------------------------------------- channels

# One connection pool per process (urllib3 is thread-safe): keep-alive to the SMS gateway and the units'
# webhooks instead of a TCP handshake per message; a pool per host, `NOTIFY_CONCURRENCY` connections each.
_pool: urllib3.PoolManager | None = None
_pool_lock = threading.Lock()


def _http() -> urllib3.PoolManager:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = urllib3.PoolManager(maxsize=max(1, settings().notify_concurrency), block=False, retries=False)
        return _pool


def _post(url: str, payload: bytes, headers: dict) -> Outcome:
    timeout = settings().notify_timeout_seconds
    try:
        response = _http().request("POST", url, body=payload, timeout=urllib3.Timeout(total=timeout),
                                   headers={"Content-Type": "application/json; charset=utf-8", **headers})
    except urllib3.exceptions.HTTPError as error:  # connection refused, timeout, protocol trouble
        reason = getattr(error, "reason", None) or error
        return Outcome(ok=False, error=f"{type(error).__name__}: {reason}"[:500])
    if 200 <= response.status < 300:
        return Outcome(ok=True)
    return Outcome(ok=False, error=f"HTTP {response.status}",
                   permanent=400 <= response.status < 500 and response.status not in RETRYABLE_HTTP)


def _signed_headers(item: Claimed, payload: bytes) -> dict:
    timestamp = str(int(time.time()))
    headers = {"Idempotency-Key": item.dedupe_key, "X-Liandong-Delivery": item.dedupe_key,
               "X-Liandong-Event": item.kind, "X-Liandong-Timestamp": timestamp}
    if item.secret:
        headers["X-Liandong-Signature"] = sign(item.secret, timestamp, payload)
    return headers


def send_sms(item: Claimed) -> Outcome:
    text = f"{item.title}\n{item.data.get('link', '')}".strip()
    if item.gateway_url is None:  # the log-only driver (development): say what would have gone out
        log.info("sms (log driver)", extra={"to": item.address, "text": text, "idempotency_key": item.dedupe_key})
        return Outcome(ok=True)
    payload = json.dumps({"id": item.dedupe_key, "to": item.address, "text": text,
                          "tenant": item.data.get("tenant_code"), "kind": item.kind},
                         ensure_ascii=False).encode()
    return _post(item.gateway_url, payload, _signed_headers(item, payload))


def send_webhook(item: Claimed) -> Outcome:
    payload = json.dumps({"id": item.dedupe_key, "kind": item.kind, "tenant": item.data.get("tenant_code"),
                          "title": item.title, "body": item.body, "data": item.data,
                          "created_at": item.created_at}, ensure_ascii=False).encode()
    return _post(item.address, payload, _signed_headers(item, payload))


def send_emails(items: list[Claimed]) -> list[Outcome]:
    """One SMTP connection for the batch; without SMTP_HOST the messages are logged (development)."""
    s = settings()
    if s.smtp_host is None:
        for item in items:
            log.info("email (log driver)", extra={"to": item.address, "subject": item.title})
        return [Outcome(ok=True) for _ in items]
    try:
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.notify_timeout_seconds)
    except OSError as error:
        return [Outcome(ok=False, error=f"SMTP connect: {error}"[:500]) for _ in items]
    outcomes = []
    with smtp:
        try:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
        except (smtplib.SMTPException, OSError) as error:
            return [Outcome(ok=False, error=f"SMTP: {error}"[:500]) for _ in items]
        for item in items:
            message = EmailMessage()
            message["Subject"], message["From"], message["To"] = item.title, s.smtp_from, item.address
            message["Date"] = formatdate(localtime=False)
            # The same message id on every attempt: mail systems drop a repeat of it.
            message["Message-ID"] = f"<{hashlib.sha256(item.dedupe_key.encode()).hexdigest()[:40]}@liandong>"
            message.set_content(item.body)
            try:
                smtp.send_message(message)
                outcomes.append(Outcome(ok=True))
            except smtplib.SMTPRecipientsRefused as error:
                outcomes.append(Outcome(ok=False, error=f"SMTP refused: {error}"[:500], permanent=True))
            except (smtplib.SMTPException, OSError) as error:
                outcomes.append(Outcome(ok=False, error=f"SMTP: {error}"[:500]))
    return outcomes


def _send_http(item: Claimed) -> Outcome:
    return send_sms(item) if item.channel == Channel.SMS.value else send_webhook(item)


def _in_app(app, item: Claimed) -> Outcome:
    with app.app_context():  # pool threads read the settings (timeouts) like the caller
        return _send_http(item)


def send_all(items: list[Claimed]) -> list[tuple[Claimed, Outcome]]:
    """Send a claimed batch: HTTP requests (SMS gateway, webhooks) NOTIFY_CONCURRENCY at a time, e-mails
    over one SMTP connection. Nothing here touches the database."""
    http = [item for item in items if item.channel in (Channel.SMS.value, Channel.WEBHOOK.value)]
    emails = [item for item in items if item.channel == Channel.EMAIL.value]
    results = []
    if http:
        workers = max(1, min(settings().notify_concurrency, len(http)))
        if workers == 1:
            results += [(item, _send_http(item)) for item in http]
        else:
            app = current_app._get_current_object()
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
                results += list(zip(http, pool.map(partial(_in_app, app), http)))
    if emails:
        results += list(zip(emails, send_emails(emails)))
    return results


def deliver_due(tenant_id: int, *, limit: int | None = None, max_rounds: int = 50) -> dict:
    """Claim, send and record due rows of one tenant until none are due (or `max_rounds` batches)."""
    limit = limit or settings().notify_batch_size
    total = {"sent": 0, "retry": 0, "failed": 0, "next_retry_at": None, "more": False}
    for _ in range(max_rounds):
        items = claim(tenant_id, limit)
        total["more"] = len(items) == limit  # a full batch: there may be more due
        if not items:
            break
        counts = _record_surely(send_all(items), tenant_id)
        for key in ("sent", "retry", "failed"):
            total[key] += counts[key]
        if counts["next_retry_at"] is not None:
            total["next_retry_at"] = min(filter(None, (total["next_retry_at"], counts["next_retry_at"])))
        if len(items) < limit:
            break
    return total
