"""The ``TrainingTemplate`` kind (cluster-scoped): a training recipe users pick by name.

A template names the image and command a run's Job executes, the defaults of its params and the JSON
Schema those params must satisfy. The Helm chart ships the trainer's templates (``hf-advanced``,
``hf-lora``, ``embedding-logreg``); platform teams may add their own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import jsonschema
import pydantic

from textclf.api import common
from textclf.api import conditions as conds

KIND = "TrainingTemplate"
PLURAL = "trainingtemplates"
SHORT_NAMES = ("tt",)
MODEL_TYPES = ("text-classifier",)


class TemplateResources(common.Model):
    """Default resources of the template's training Pods."""

    gpu: int = common.field(default=0, ge=0, le=64, description="Number of nvidia.com/gpu.")
    cpu: common.Quantity | None = common.field(default=None, description="CPU request.")
    memory: common.Quantity | None = common.field(default=None, description="Memory request.")


class TrainingTemplateSpec(common.Model):
    """A training recipe: image, command, defaults and the schema of its params."""

    description: str | None = common.field(
        default=None, max_length=4096, description="What the template does and when to use it."
    )
    model_type: Literal["text-classifier"] = common.field(
        default="text-classifier", description="The model type it trains."
    )
    image: str = common.field(
        min_length=1, max_length=1024, description="Container image of the trainer."
    )
    command: (
        Annotated[
            list[Annotated[str, pydantic.Field(max_length=4096)]], pydantic.Field(max_length=64)
        ]
        | None
    ) = common.field(default=None, description="Command run in the image.")
    defaults: common.JsonObject | None = common.field(
        default=None, description="Default params, merged under a run's params."
    )
    params_schema: common.JsonObject | None = common.field(
        default=None, description="JSON Schema the merged params must satisfy."
    )
    resources: TemplateResources | None = common.field(
        default=None, description="Default resources of its runs."
    )


class TrainingTemplateStatus(common.Model):
    """Observed state of the template; written by the operator only."""

    observed_generation: int | None = common.field(
        default=None, description="The .metadata.generation this status reflects."
    )
    conditions: Annotated[list[conds.Condition], pydantic.Field(max_length=8)] = common.field(
        default_factory=list,
        description="Valid: paramsSchema is a JSON Schema and the defaults satisfy it.",
        schema={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )


class TrainingTemplate(common.Model):
    """A TrainingTemplate object as stored by the API server."""

    api_version: Literal["textclf.io/v1alpha1"] = "textclf.io/v1alpha1"
    kind: Literal["TrainingTemplate"] = "TrainingTemplate"
    metadata: dict[str, Any] = pydantic.Field(default_factory=dict)
    spec: TrainingTemplateSpec
    status: TrainingTemplateStatus | None = None


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Model-Type", "type": "string", "jsonPath": ".spec.modelType"},
    {"name": "Image", "type": "string", "jsonPath": ".spec.image"},
    {
        "name": "Valid",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Valid")].status',
    },
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
]


def params_problem(schema: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """The first thing ``schema`` refuses in ``params`` (merged ones), as ``params.<key>: <why>``
    with how many more there are; None when it refuses nothing. The trainer and the SDKs word a
    refusal alike."""
    validator = jsonschema.Draft202012Validator(dict(schema))
    problems = sorted(validator.iter_errors(params), key=lambda e: list(e.absolute_path))
    if not problems:
        return None
    first = problems[0]
    where = ".".join(["params", *(str(p) for p in first.absolute_path)])
    more = f" (and {len(problems) - 1} more)" if problems[1:] else ""
    return f"{where}: {_why(first)}{more}"


def _why(error: jsonschema.ValidationError) -> str:
    """In words a user can act on: for a value that may take several forms, why it fits none of
    them (jsonschema's own message only says that it does not)."""
    if error.validator == "additionalProperties":
        return f"unknown key ({error.message})"
    if error.validator in ("oneOf", "anyOf") and error.context:
        first_per_form: dict[Any, jsonschema.ValidationError] = {}
        for sub in error.context:
            first_per_form.setdefault(sub.relative_schema_path[0], sub)
        reasons = "; or ".join(
            (
                "item " + ".".join(str(p) for p in sub.relative_path) + ": "
                if sub.relative_path
                else ""
            )
            + sub.message
            for sub in first_per_form.values()
        )
        return f"{error.instance!r} fits none of its forms: {reasons}"
    return error.message


def merge_params(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A template's defaults under a model's or run's params: objects merge key by key, anything
    else in ``overrides`` wins. The trainer, the operator's views and the SDK merge alike."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_params(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
