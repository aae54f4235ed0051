"""All configuration, read once from the environment.

Every knob the product has lives here, so operators have one place to look.
`docs/configuration.md` lists the same names with their meaning.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 whatever scheme the operator wrote."""
    for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _persistent_secret(var_dir: Path, name: str) -> str:
    """A development secret that survives restarts, so tokens stay valid across `make run`."""
    path = var_dir / name
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    database_url: str | None
    redis_url: str | None
    db_app_role: str
    secret_key: str
    jwt_secret_key: str
    access_token_minutes: int
    refresh_token_days: int
    refresh_retry_grace_seconds: int
    login_rate_limit: str
    lockout_threshold: int
    lockout_minutes: int
    idempotency_ttl_hours: int
    log_level: str
    log_json: bool
    port: int
    sweep_seconds: int
    argon2_time_cost: int
    argon2_memory_kib: int
    default_time_zone: str = "Asia/Shanghai"
    extra: dict = field(default_factory=dict)
    # Photos from the scene (docs/media.md).
    media_storage: str = "local"                 # local | s3
    media_dir: Path | None = None                # local backend root; default VAR_DIR/media
    media_max_bytes: int = 20 * 1024 * 1024
    media_max_pixels: int = 50_000_000
    media_max_per_instruction: int = 30
    media_display_px: int = 2048
    media_thumbnail_px: int = 320
    media_derived_format: str = "jpeg"           # jpeg | webp
    media_sync_max_pixels: int = 2_000_000
    media_signed_url_seconds: int = 300
    media_signing_key: str | None = None         # default: derived from SECRET_KEY
    media_original_retention_days: int = 0       # 0: keep originals for ever
    media_capture_skew_minutes: int = 60
    media_gps_distance_m: int = 1000
    media_decode_memory_mb: int = 128           # one whole decode (PNG, WebP, HEIF, progressive JPEG) at most
    media_decode_concurrency: int = 1           # such whole decodes at once, per process
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_access_key_id: str | None = None
    media_s3_secret_access_key: str | None = None
    media_s3_prefix: str = ""
    # Reminders and notifications (docs/reminders.md).
    reminder_sweep_seconds: int = 10             # the timer/outbox sweep; design.md asks for <= 15
    reminder_batch_size: int = 200               # timers claimed per transaction
    reminder_early_wait_ms: int = 1500           # a job started this early waits; earlier ones leave it to the sweep
    reminder_slice_ms: int = 100                 # a busy second's timers are fired in slices this long
    notify_batch_size: int = 100                 # outbox rows claimed per delivery round
    notify_max_attempts: int = 6
    notify_backoff_seconds: int = 30             # first retry; doubles each attempt
    notify_backoff_max_seconds: int = 3600
    notify_lease_seconds: int = 120              # a claimed row is retried after this if its worker died
    notify_timeout_seconds: int = 10
    notify_concurrency: int = 8                  # HTTP deliveries (SMS gateway, webhooks) in flight at once
    delivery_workers: int = 1                    # extra worker processes of `python -m worker`, outbox first
    sms_driver: str = "log"                      # log: without a tenant gateway, log instead of sending
    public_base_url: str = "http://127.0.0.1:8000"
    smtp_host: str | None = None                 # unset: e-mails are logged, not sent
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = "liandong@localhost"
    # Polled lists answered from a validated cache (app/common/read_cache.py); 0 seconds: no cache.
    read_cache_seconds: int = 15                 # the longest a cached answer may lag a commit Redis missed
    read_cache_mb: int = 64                      # answers kept per gunicorn worker

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ.get("LIANDONG_ENV", "development")
        var_dir = Path(os.environ.get("VAR_DIR", PROJECT_ROOT / "var")).resolve()
        secret_key = os.environ.get("SECRET_KEY") or ""
        jwt_secret = os.environ.get("JWT_SECRET_KEY") or ""
        if env == "production" and (not secret_key or not jwt_secret):
            raise RuntimeError("SECRET_KEY and JWT_SECRET_KEY must be set in production")
        if not secret_key:
            secret_key = _persistent_secret(var_dir, "secret_key")
        if not jwt_secret:
            jwt_secret = _persistent_secret(var_dir, "jwt_secret_key")
        return cls(
            env=env,
            var_dir=var_dir,
            database_url=os.environ.get("DATABASE_URL") or None,
            redis_url=os.environ.get("REDIS_URL") or None,
            db_app_role=os.environ.get("DB_APP_ROLE", "liandong_app"),
            secret_key=secret_key,
            jwt_secret_key=jwt_secret,
            access_token_minutes=_int("ACCESS_TOKEN_MINUTES", 15),
            refresh_token_days=_int("REFRESH_TOKEN_DAYS", 14),
            refresh_retry_grace_seconds=_int("REFRESH_RETRY_GRACE_SECONDS", 30),
            login_rate_limit=os.environ.get("LOGIN_RATE_LIMIT", "20 per minute"),
            lockout_threshold=_int("LOCKOUT_THRESHOLD", 5),
            lockout_minutes=_int("LOCKOUT_MINUTES", 15),
            idempotency_ttl_hours=_int("IDEMPOTENCY_TTL_HOURS", 24),
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            log_json=_bool("LOG_JSON", env != "development"),
            port=_int("PORT", 8000),
            sweep_seconds=_int("SWEEP_SECONDS", 15),
            # RFC 9106's second recommended option: t=3, m=64 MiB.
            argon2_time_cost=_int("ARGON2_TIME_COST", 3),
            argon2_memory_kib=_int("ARGON2_MEMORY_KIB", 65536),
            default_time_zone=os.environ.get("DEFAULT_TIME_ZONE", "Asia/Shanghai"),
            media_storage=os.environ.get("MEDIA_STORAGE", "local"),
            media_dir=Path(os.environ.get("MEDIA_DIR") or var_dir / "media").resolve(),
            media_max_bytes=_int("MEDIA_MAX_BYTES", 20 * 1024 * 1024),
            media_max_pixels=_int("MEDIA_MAX_PIXELS", 50_000_000),
            media_max_per_instruction=_int("MEDIA_MAX_PER_INSTRUCTION", 30),
            media_display_px=_int("MEDIA_DISPLAY_PX", 2048),
            media_thumbnail_px=_int("MEDIA_THUMBNAIL_PX", 320),
            media_derived_format=os.environ.get("MEDIA_DERIVED_FORMAT", "jpeg"),
            media_sync_max_pixels=_int("MEDIA_SYNC_MAX_PIXELS", 2_000_000),
            media_signed_url_seconds=_int("MEDIA_SIGNED_URL_SECONDS", 300),
            media_signing_key=os.environ.get("MEDIA_SIGNING_KEY") or None,
            media_original_retention_days=_int("MEDIA_ORIGINAL_RETENTION_DAYS", 0),
            media_capture_skew_minutes=_int("MEDIA_CAPTURE_SKEW_MINUTES", 60),
            media_gps_distance_m=_int("MEDIA_GPS_DISTANCE_M", 1000),
            media_decode_memory_mb=_int("MEDIA_DECODE_MEMORY_MB", 128),
            media_decode_concurrency=_int("MEDIA_DECODE_CONCURRENCY", 1),
            media_s3_bucket=os.environ.get("MEDIA_S3_BUCKET") or None,
            media_s3_endpoint_url=os.environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            media_s3_region=os.environ.get("MEDIA_S3_REGION", "us-east-1"),
            media_s3_access_key_id=os.environ.get("MEDIA_S3_ACCESS_KEY_ID") or None,
            media_s3_secret_access_key=os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            media_s3_prefix=os.environ.get("MEDIA_S3_PREFIX", ""),
            reminder_sweep_seconds=_int("REMINDER_SWEEP_SECONDS", 10),
            reminder_batch_size=_int("REMINDER_BATCH_SIZE", 200),
            reminder_early_wait_ms=_int("REMINDER_EARLY_WAIT_MS", 1500),
            reminder_slice_ms=_int("REMINDER_SLICE_MS", 100),
            notify_batch_size=_int("NOTIFY_BATCH_SIZE", 100),
            notify_max_attempts=_int("NOTIFY_MAX_ATTEMPTS", 6),
            notify_backoff_seconds=_int("NOTIFY_BACKOFF_SECONDS", 30),
            notify_backoff_max_seconds=_int("NOTIFY_BACKOFF_MAX_SECONDS", 3600),
            notify_lease_seconds=_int("NOTIFY_LEASE_SECONDS", 120),
            notify_timeout_seconds=_int("NOTIFY_TIMEOUT_SECONDS", 10),
            notify_concurrency=_int("NOTIFY_CONCURRENCY", 8),
            delivery_workers=_int("DELIVERY_WORKERS", 1),
            sms_driver=os.environ.get("SMS_DRIVER", "http" if env == "production" else "log"),
            public_base_url=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            smtp_host=os.environ.get("SMTP_HOST") or None,
            smtp_port=_int("SMTP_PORT", 25),
            smtp_username=os.environ.get("SMTP_USERNAME") or None,
            smtp_password=os.environ.get("SMTP_PASSWORD") or None,
            smtp_starttls=_bool("SMTP_STARTTLS", False),
            smtp_from=os.environ.get("SMTP_FROM", "liandong@localhost"),
            read_cache_seconds=_int("READ_CACHE_SECONDS", 15),
            read_cache_mb=_int("READ_CACHE_MB", 64),
        )
