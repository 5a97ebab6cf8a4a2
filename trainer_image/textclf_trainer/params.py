"""A run's effective params: the template's defaults merged under the run's params, checked against the
template's JSON Schema, with the backbone resolved to a loadable location.

Every refusal is ``INVALID_PARAMS`` with a message naming the key (``params.trainer_config.learning_rate``).
Torch-free; the operator may call ``effective`` to refuse a run before it makes a Job.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Mapping
from typing import Any

from textclf.api import trainingtemplate
from textclf_trainer import catalogue, errors

DEFAULT_BACKBONE_ENV = "TEXTCLF_DEFAULT_BACKBONE"
"""Backbone used when ``model_config.pretrained_model_name_or_path`` is not set."""
PACKAGE_SCHEME = "package://"
BACKBONE_KEY = "pretrained_model_name_or_path"


merge = trainingtemplate.merge_params


def effective(template: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults merged with ``params`` and validated; raises ``INVALID_PARAMS`` naming the key."""
    spec = catalogue.get(template)
    if spec is None:
        raise errors.invalid_params(
            f"template {template!r} is unknown; known: {', '.join(catalogue.names())}"
        )
    merged = merge(spec["defaults"], params or {})
    problem = trainingtemplate.params_problem(spec["paramsSchema"], merged)
    if problem:
        raise errors.invalid_params(problem)
    return merged


def resolve_location(value: str) -> str:
    """A backbone location as from_pretrained takes it: ``package://PKG/PATH`` becomes a folder path."""
    if not value.startswith(PACKAGE_SCHEME):
        return value
    package, _, inner = value[len(PACKAGE_SCHEME) :].partition("/")
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise errors.invalid_params(
            f"params.model_config.{BACKBONE_KEY}: package {package!r} is not installed"
        ) from exc
    target = root / inner if inner else root
    if not target.is_dir():
        raise errors.invalid_params(
            f"params.model_config.{BACKBONE_KEY}: {value} is not a folder in package {package!r}"
        )
    return str(target)


def backbone(merged: Mapping[str, Any]) -> str:
    """The backbone location, from params or ``TEXTCLF_DEFAULT_BACKBONE``; required one way or the other."""
    value = (merged.get("model_config") or {}).get(BACKBONE_KEY) or os.environ.get(
        DEFAULT_BACKBONE_ENV
    )
    if not value:
        raise errors.invalid_params(
            f"params.model_config.{BACKBONE_KEY} is required (no {DEFAULT_BACKBONE_ENV} is set)"
        )
    return resolve_location(str(value))


def multi_label(merged: Mapping[str, Any], label_separator: str | None) -> bool:
    """Multi-label when the params say so, else when the dataset has a label separator."""
    flag = merged.get("multi_label")
    if flag is not None:
        return bool(flag)
    return label_separator is not None


def from_pretrained_kwargs(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """A ``model_config``/``tokenizer_config`` without the backbone key."""
    return {k: v for k, v in (section or {}).items() if k != BACKBONE_KEY}
