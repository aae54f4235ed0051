"""Domain events: a tiny publish/subscribe seam. Services publish only after commit
(`uow.after_commit(events.publish, event)`); subscribers register by the event's class name.

A failing subscriber is logged and does not stop the others: the work is already committed.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Callable

log = logging.getLogger(__name__)

ANY = "*"
_subscribers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(name: str, handler: Callable) -> Callable:
    """Call `handler(event)` for every published event whose class is named `name` (or every one: "*")."""
    if handler not in _subscribers[name]:
        _subscribers[name].append(handler)
    return handler


def unsubscribe(name: str, handler: Callable) -> None:
    if handler in _subscribers.get(name, []):
        _subscribers[name].remove(handler)


def publish(event) -> None:
    for handler in [*_subscribers.get(type(event).__name__, []), *_subscribers.get(ANY, [])]:
        try:
            handler(event)
        except Exception:  # noqa: BLE001 - one subscriber must not break the others
            log.exception("event subscriber failed", extra={"event": type(event).__name__})
