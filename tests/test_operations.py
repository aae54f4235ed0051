"""Operations endpoints and logs: /healthz, /readyz, /metrics, request ids, JSON log lines."""
from __future__ import annotations

import json
from tests.factories import assert_error


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_200_when_database_and_redis_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_naming_redis_when_redis_is_down(app, client, monkeypatch):
    from redis import Redis

    monkeypatch.setitem(app.extensions, "liandong_redis",
                        Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5))

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {"database": "ok", "redis": "down"}


def test_readyz_is_503_naming_the_database_when_it_is_down(test_env, monkeypatch):
    from app import create_app

    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    broken = create_app()

    response = broken.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json() == {"database": "down", "redis": "ok"}


def test_metrics_expose_request_counts_in_prometheus_format(client):
    client.get("/api/v1/auth/me")

    body = client.get("/metrics").get_data(as_text=True)

    assert "# TYPE flask_http_request_total counter" in body
    assert 'flask_http_request_total{method="GET",status="401"}' in body


def test_every_response_carries_a_request_id(client):
    generated = client.get("/healthz").headers["X-Request-ID"]
    echoed = client.get("/healthz", headers={"X-Request-ID": "desk-42"}).headers["X-Request-ID"]
    refused = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]

    assert len(generated) == 32
    assert echoed == "desk-42"
    assert refused not in ("", "bad id with spaces")


def test_log_lines_are_json_with_the_request_id(client, capsys):
    from app.logging_setup import configure_logging

    configure_logging("INFO", as_json=True)  # binds the handler to this test's captured stderr
    try:
        client.get("/healthz", headers={"X-Request-ID": "trace-me-1"})
    finally:
        configure_logging("WARNING", as_json=True)

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("logger") == "liandong.access"]
    assert access and access[-1]["request_id"] == "trace-me-1"
    assert access[-1]["status"] == 200 and access[-1]["level"] == "INFO"
    assert access[-1]["time"].endswith("+0000")


def test_openapi_document_declares_bearer_security_and_the_error_shape(client):
    spec = client.get("/api/openapi.json").get_json()

    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert spec["security"] == [{"bearerAuth": []}]
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {
        "code", "status", "message", "error", "errors"}
    users = spec["paths"]["/api/v1/t/{tenant_code}/users"]
    assert users["get"]["x-roles"] == ["tenant_admin"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/api/docs").get_data(as_text=True)

    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_unknown_page_gets_the_uniform_error(client):
    assert_error(client.get("/no/such/page"), 404, "not_found")
