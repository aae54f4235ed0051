"""Domain folders. Each `<domain>/routes.py` exposes flask-smorest Blueprints, found by `api_blueprints`."""
from __future__ import annotations

import importlib
import pkgutil

from flask_smorest import Blueprint


def api_blueprints() -> list[Blueprint]:
    """Every Blueprint defined in a `routes.py` of a domain folder, in folder-name order."""
    found: list[Blueprint] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        if not module_info.ispkg:
            continue
        try:
            routes = importlib.import_module(f"{__name__}.{module_info.name}.routes")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{module_info.name}.routes":
                raise
            continue
        found += [value for value in vars(routes).values() if isinstance(value, Blueprint)]
    return found
