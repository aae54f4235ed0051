"""Domain errors and the one JSON error shape every failure leaves the API in.

Services raise a `DomainError` subclass with a stable machine code; the handlers
here turn it, and every HTTP or JWT error, into
`{"code", "status", "message", "error", "errors"}`.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

import marshmallow as ma
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    default_code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, code: str | None = None, message: str | None = None, *,
                 errors: dict | None = None, headers: dict | None = None):
        self.code = code or self.default_code
        self.message = message or self.default_message
        self.errors = errors or {}
        self.headers = headers or {}
        super().__init__(self.code)


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"
    default_message = "Authentication is required."


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"
    default_message = "Your role does not allow this action."


class NotFound(DomainError):
    status = 404
    default_code = "not_found"
    default_message = "The resource does not exist."


class Conflict(DomainError):
    status = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class PreconditionFailed(DomainError):
    status = 412
    default_code = "version_mismatch"
    default_message = "The resource was changed by someone else; reload and retry."


class Unprocessable(DomainError):
    status = 422
    default_code = "validation_error"
    default_message = "The request body or parameters are invalid."


class Locked(DomainError):
    status = 423
    default_code = "locked"


class TooManyRequests(DomainError):
    status = 429
    default_code = "rate_limited"
    default_message = "Too many requests; slow down."


# Stable machine codes for plain HTTP errors raised by Flask, webargs or flask-smorest.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def error_body(status: int, error: str, message: str, errors: dict | None = None) -> dict:
    return {
        "code": status,
        "status": HTTPStatus(status).phrase,
        "message": message,
        "error": error,
        "errors": errors or {},
    }


def error_response(status: int, error: str, message: str, errors: dict | None = None,
                   headers: dict | None = None):
    response = jsonify(error_body(status, error, message, errors))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _validation_errors(data: dict | None) -> dict:
    if not data:
        return {}
    errors = data.get("errors") or data.get("messages") or {}
    # webargs nests errors by location ({"json": {...}}); flatten one level for clients
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "form", "files", "headers", "path"}:
        flat: dict = {}
        for location_errors in errors.values():
            if isinstance(location_errors, dict):
                flat.update(location_errors)
        return flat or errors
    return errors


def handle_http_exception(exc: HTTPException):
    from app.extensions import db

    db.session.rollback()
    data = getattr(exc, "data", None) or {}
    status = exc.code or 500
    error = data.get("error") or _HTTP_CODES.get(status, "http_error")
    message = data.get("message") or exc.description or HTTPStatus(status).phrase
    if status == 422 and not data.get("message"):
        message = "The request body or parameters are invalid."
    headers = dict(data.get("headers") or {})
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(status, error, message, _validation_errors(data), headers)


def handle_domain_error(exc: DomainError):
    from app.extensions import db

    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.errors, exc.headers)


def handle_unexpected(exc: Exception):
    from app.extensions import db

    log.exception("unhandled error")
    db.session.rollback()
    return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(ma.ValidationError, lambda exc: handle_domain_error(
        Unprocessable(errors=exc.normalized_messages())))
    app.register_error_handler(Exception, handle_unexpected)


class ErrorSchema(ma.Schema):
    """The uniform error body, for the OpenAPI document."""

    code = ma.fields.Integer(metadata={"description": "HTTP status code"})
    status = ma.fields.String(metadata={"description": "HTTP status phrase"})
    message = ma.fields.String(metadata={"description": "Human-readable explanation"})
    error = ma.fields.String(metadata={"description": "Stable machine code, e.g. `account_locked`"})
    errors = ma.fields.Dict(metadata={"description": "Field errors: {field: [messages]}"})
