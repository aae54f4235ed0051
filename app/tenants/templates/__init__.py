"""Tenant templates: the starting catalogue a new district is provisioned with."""
from __future__ import annotations

from typing import Callable

from app.tenants.templates import liangzhou

TEMPLATES: dict[str, Callable] = {
    "liangzhou": liangzhou.apply,
}
