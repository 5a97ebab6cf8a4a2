"""Building blocks shared by the API models: the camelCase base model, validation rules that hold in
Python and in the API server alike, Kubernetes quantities, URIs, tolerations and resources.

A rule is written once here and lands twice: as a pydantic validator (the trainer's local mode and the
SDK check specs without a cluster) and as a CEL ``x-kubernetes-validations`` entry in the CRD (the API
server refuses bad input at admission). Both give the same message, which names the field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pydantic
from pydantic import alias_generators

MAX_NAME = 253
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
QUANTITY = re.compile(r"^\+?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
"""A non-negative Kubernetes quantity (resource requests cannot be negative)."""


class Model(pydantic.BaseModel):
    """Base of every API model: camelCase on the wire, snake_case in Python, unknown fields refused."""

    model_config = pydantic.ConfigDict(
        alias_generator=alias_generators.to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready dict a Kubernetes object carries (camelCase, unset fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validation rule: a CEL expression for the API server, and optionally the same in Python."""

    cel: str
    message: str
    check: Callable[[Any], bool] | None = None  # None: enforced by the API server only
    field_path: str | None = None  # where the API server reports it, e.g. ".template"
    transition: bool = False  # compares with oldSelf: only meaningful on update

    def to_schema(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"rule": self.cel, "message": self.message}
        if self.field_path:
            rule["fieldPath"] = self.field_path
        return rule


RULES_KEY = "x-kubernetes-validations"


def rules_extra(*rules: Rule, **extra: Any) -> dict[str, Any]:
    """``json_schema_extra`` carrying CEL rules (and any other schema keys)."""
    return {RULES_KEY: [r.to_schema() for r in rules], **extra}


def field(
    default: Any = ...,
    *,
    description: str,
    rules: tuple[Rule, ...] = (),
    schema: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A pydantic ``Field`` whose CEL rules and extra schema keys reach the CRD."""
    extra: dict[str, Any] = dict(schema or {})
    if rules:
        extra[RULES_KEY] = [r.to_schema() for r in rules]
    return pydantic.Field(
        default, description=description, json_schema_extra=extra or None, **kwargs
    )


def _checked(rule: Rule) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if rule.check is not None and not rule.check(value):
            raise ValueError(rule.message)
        return value

    return validate


def checked(tp: Any, *rules: Rule, **schema: Any) -> Any:
    """``tp`` annotated with rules enforced by pydantic and emitted as CEL."""
    validators = [pydantic.AfterValidator(_checked(r)) for r in rules if r.check is not None]
    extra = rules_extra(*rules, **schema)
    return Annotated[tp, *validators, pydantic.WithJsonSchema(_merge_schema(tp, extra))]


def _merge_schema(tp: Any, extra: dict[str, Any]) -> dict[str, Any]:
    base = pydantic.TypeAdapter(tp).json_schema()
    return {**base, **extra}


# --- URIs ----------------------------------------------------------------------------------------

DATASET_SCHEMES = ("configmap", "pvc", "s3", "https", "file")
OUTPUT_SCHEMES = ("pvc", "s3", "file")


def _scheme_rule(schemes: tuple[str, ...], what: str) -> Rule:
    alternatives = "|".join(schemes)
    pattern = re.compile(rf"^({alternatives})://[^\s]+$")
    listed = ", ".join(f"{s}://" for s in schemes)
    return Rule(
        cel=f"self.matches('^({alternatives})://[^\\\\s]+$')",
        message=f"must be {what} URI of a supported scheme ({listed})",
        check=lambda v: bool(pattern.match(v)),
    )


DatasetUri = checked(
    Annotated[str, pydantic.StringConstraints(min_length=1, max_length=2048)],
    _scheme_rule(DATASET_SCHEMES, "a dataset"),
)
OutputUri = checked(
    Annotated[str, pydantic.StringConstraints(min_length=1, max_length=2048)],
    _scheme_rule(OUTPUT_SCHEMES, "an output"),
)

# --- names ---------------------------------------------------------------------------------------

ObjectName = Annotated[
    str, pydantic.StringConstraints(min_length=1, max_length=MAX_NAME, pattern=DNS_SUBDOMAIN)
]
LabelValue = Annotated[
    str,
    pydantic.StringConstraints(
        min_length=1, max_length=63, pattern=r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
    ),
]

# --- quantities ----------------------------------------------------------------------------------

QUANTITY_RULE = Rule(
    cel="type(self) == int ? self >= 0 : (isQuantity(self) && !self.startsWith('-'))",
    message="must be a Kubernetes quantity such as 2, 500m or 16Gi",
    check=lambda v: (isinstance(v, int) and v >= 0) or bool(QUANTITY.match(str(v))),
)


def _quantity_schema() -> dict[str, Any]:
    return {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
        "maxLength": 64,
        RULES_KEY: [QUANTITY_RULE.to_schema()],
    }


Quantity = Annotated[
    int | str,
    pydantic.AfterValidator(_checked(QUANTITY_RULE)),
    pydantic.WithJsonSchema(_quantity_schema()),
]
"""A Kubernetes ``resource.Quantity``: an integer, or a string such as ``500m`` or ``16Gi``."""

ResourceList = Annotated[
    dict[str, Quantity],
    pydantic.WithJsonSchema(
        {
            "type": "object",
            "maxProperties": 16,
            "additionalProperties": _quantity_schema(),
        }
    ),
]


class ResourceRequirements(Model):
    """Requests and limits, as in a container spec."""

    requests: ResourceList | None = field(default=None, description="Minimum resources.")
    limits: ResourceList | None = field(default=None, description="Maximum resources.")


class Toleration(Model):
    """A Pod toleration, passed to the training Pod unchanged."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules_extra(
            Rule(
                cel="!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
                message="value must be empty when operator is Exists",
                field_path=".value",
            )
        )
    )

    key: str | None = field(default=None, max_length=316, description="Taint key to tolerate.")
    operator: Literal["Exists", "Equal"] | None = field(
        default=None, description="Exists or Equal (default Equal)."
    )
    value: str | None = field(default=None, max_length=63, description="Taint value for Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = field(
        default=None, description="Taint effect to tolerate; empty means all."
    )
    toleration_seconds: int | None = field(
        default=None, description="How long a NoExecute taint is tolerated."
    )


LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
NODE_SELECTOR_RULE = Rule(
    cel="self.all(k, size(k) <= 317 && k.matches('{}'))".format(LABEL_KEY.replace("\\", "\\\\")),
    message="keys must be label keys such as nvidia.com/gpu.product (prefix/name, name at most 63 characters)",
    check=lambda v: all(len(k) <= 317 and re.match(LABEL_KEY, k) for k in v),
)
NodeSelector = checked(
    Annotated[
        dict[str, Annotated[str, pydantic.StringConstraints(max_length=63, pattern=LABEL_VALUE)]],
        pydantic.Field(max_length=64),
    ],
    NODE_SELECTOR_RULE,
)
"""Node labels a Pod must match: label keys to label values."""

JsonObject = Annotated[
    dict[str, Any],
    pydantic.WithJsonSchema({"type": "object", "x-kubernetes-preserve-unknown-fields": True}),
]
"""A free-form JSON object (template params, JSON Schemas); validated by code, not by the CRD."""
