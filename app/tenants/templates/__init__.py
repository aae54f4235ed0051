"""Tenant templates: the starting units and catalogue a new district is provisioned with.

Every `<name>.toml` data file in this folder is a template named `<name>` (e.g. `liangzhou`),
applied by `loader.apply_file` inside the tenant-creating transaction.
"""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

from app.tenants.templates import loader

TEMPLATES: dict[str, Callable] = {path.stem: partial(loader.apply_file, path)
                                  for path in sorted(Path(__file__).parent.glob("*.toml"))}
