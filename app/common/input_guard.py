"""Refuse input PostgreSQL cannot store before it reaches a service.

PostgreSQL text and jsonb cannot hold NUL (U+0000). Such a character in the query string
or a JSON body is answered 422 `invalid_character` naming the field, and in the path 404
(no resource has such a name), so it never becomes a 500 deep in a query.
"""
from __future__ import annotations

from flask import Flask, request

from app.errors import NotFound, Unprocessable

_NUL = "\x00"
_MESSAGE = "Contains a NUL character."


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nul():
    if _NUL in request.path:
        raise NotFound()
    fields = {key: [_MESSAGE] for key, value in request.args.items(multi=True)
              if _has_nul(key) or _has_nul(value)}
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        fields.update({key: [_MESSAGE] for key, value in body.items() if _has_nul(key) or _has_nul(value)})
    elif _has_nul(body):
        fields["_schema"] = [_MESSAGE]
    if fields:
        raise Unprocessable("invalid_character", "The request contains a NUL character.", errors=fields)


def register_input_guard(app: Flask) -> None:
    app.before_request(_refuse_nul)
