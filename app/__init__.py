"""Liandong (联动): the 110 social-service linkage platform.

`create_app` builds the API: settings from the environment, extensions, the
access gate, blueprints, error handlers, operations endpoints and CLI commands.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory
from redis import Redis

from app.settings import PROJECT_ROOT, Settings, sqlalchemy_url


def create_app(settings: Settings | None = None, **config_overrides) -> Flask:
    settings = settings or Settings.from_env()
    if settings.database_url is None or settings.redis_url is None:
        from app import embedded

        database_url, redis_url = embedded.ensure_services(settings.var_dir)
        settings = Settings.from_env()

    from app import models  # noqa: F401  (registers every table)

    app = Flask(__name__, static_folder=None)
    app.extensions["liandong_settings"] = settings
    configure(app, settings)
    app.config.update(config_overrides)

    from app.logging_setup import configure_logging, register_request_id

    configure_logging(settings.log_level, settings.log_json)
    register_request_id(app)
    register_extensions(app, settings)
    register_api(app)
    register_error_handlers(app)
    register_operations(app)
    register_cli(app)
    register_frontend(app)
    return app


def configure(app: Flask, settings: Settings) -> None:
    from datetime import timedelta

    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=sqlalchemy_url(settings.database_url),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        JWT_SECRET_KEY=settings.jwt_secret_key,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.access_token_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.refresh_token_days),
        RATELIMIT_STORAGE_URI=_limiter_storage(settings.redis_url),
        # Redis trouble must not lock the desk out: fall back to per-process limits.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_HEADERS_ENABLED=True,
        API_TITLE="Liandong 联动 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True, "showExtensions": True},
        API_SPEC_OPTIONS={
            "security": [{"bearerAuth": []}],
            "info": {"description": "Tenant data lives under `/api/v1/t/{tenant_code}/`. "
                                    "Log in at `POST /api/v1/auth/login`, then *Authorize* with the "
                                    "access token. Every error has the body "
                                    "`{code, status, message, error, errors}`."},
        },
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
    )


def _limiter_storage(redis_url: str) -> str:
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url


def register_extensions(app: Flask, settings: Settings) -> None:
    from app.database import install_app_role
    from app.extensions import api, db, jwt, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    jwt.init_app(app)
    limiter.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    with app.app_context():
        install_app_role(db.engine, settings.db_app_role)
    app.extensions["liandong_redis"] = Redis.from_url(settings.redis_url)

    from app.common import read_cache

    read_cache.install(app, settings)

    from app.blueprints.auth import passwords

    passwords.configure(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)

    from app.common.jwt_callbacks import register_jwt_callbacks

    register_jwt_callbacks(jwt)


def register_api(app: Flask) -> None:
    from app.blueprints import api_blueprints
    from app.common.authz import check_every_view_declares_access, register_gate
    from app.extensions import api
    from app.tenants.routes import blp as tenants_blp, own as tenant_profile_blp

    from app.common.fields import BoundedIntConverter
    from app.common.input_guard import register_input_guard

    app.url_map.converters["int"] = BoundedIntConverter
    register_input_guard(app)
    register_gate(app)
    for blueprint in (tenants_blp, tenant_profile_blp, *api_blueprints()):
        api.register_blueprint(blueprint)
    check_every_view_declares_access(app)


def register_error_handlers(app: Flask) -> None:
    from app.errors import register_error_handlers as register

    register(app)


def register_operations(app: Flask) -> None:
    from prometheus_client import CollectorRegistry
    from prometheus_flask_exporter import PrometheusMetrics
    import swagger_ui_bundle

    from app.blueprints.ops.routes import bp

    app.register_blueprint(bp)
    # A registry per app: tests build many apps in one process.
    PrometheusMetrics(app, registry=CollectorRegistry(auto_describe=True), group_by="url_rule",
                      excluded_paths=["/healthz", "/readyz", "/metrics"])

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/api/docs/assets/<path:filename>")
    def swagger_assets(filename):
        """Swagger UI served from the installed package: no CDN needed on a closed network."""
        return send_from_directory(assets, filename, max_age=86400)


def register_cli(app: Flask) -> None:
    from app.blueprints.audit.cli import audit_cli
    from app.blueprints.media.cli import media_cli
    from app.blueprints.users.cli import users_cli
    from app.common.read_cache import read_cache_cli
    from app.demo import demo_cli
    from app.tenants.cli import tenants_cli

    for group in (tenants_cli, users_cli, audit_cli, demo_cli, media_cli, read_cache_cli):
        app.cli.add_command(group)


def register_frontend(app: Flask) -> None:
    frontend = PROJECT_ROOT / "frontend"

    @app.get("/")
    def index():
        built = frontend / "dist"
        root = built if (built / "index.html").exists() else frontend
        return send_from_directory(root, "index.html", max_age=0)
