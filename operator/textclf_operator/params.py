"""Template params: merge the layers a run inherits and check them against the template's schema.

A run's effective params are the template's ``defaults``, overlaid by its model's ``params``, overlaid
by the run's own ``params`` (nested objects merge key by key, as Helm values do). The operator checks
them before making a Job, so a typo fails in seconds with the key named instead of minutes later in a
Pod; the trainer checks again against its own schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema
import jsonschema.exceptions


def merge(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Deep-merge dicts left to right; later layers win, nested dicts merge."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            current = merged.get(key)
            if isinstance(current, dict) and isinstance(value, Mapping):
                merged[key] = merge(current, value)
            else:
                merged[key] = value
    return merged


def problems(params: Mapping[str, Any], schema: Mapping[str, Any] | None) -> list[str]:
    """Human messages for every way ``params`` breaks ``schema``, each naming the key."""
    if not schema:
        return []
    validator_cls = jsonschema.validators.validator_for(schema)
    try:
        validator_cls.check_schema(dict(schema))
    except jsonschema.exceptions.SchemaError as err:
        return [f"the template's paramsSchema is not a valid JSON Schema: {err.message}"]
    validator = validator_cls(dict(schema))
    found = []
    for error in sorted(validator.iter_errors(dict(params)), key=lambda e: list(e.path)):
        where = "params" + "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        found.append(f"{where}: {error.message}")
    return found
