"""Generate the CRD manifests in ``crds/`` from the typed models: the models are the source of truth.

Run ``python -m textclf.api.crdgen crds/`` (``make crds``) after changing a model; a test regenerates
the manifests in memory and fails when the files on disk differ.

Pydantic emits JSON Schema 2020-12; the API server wants a *structural* OpenAPI v3 schema. The
conversion inlines ``$ref``, turns ``X | None`` into an optional ``X``, maps numeric exclusive bounds
to OpenAPI's boolean form, drops titles and null defaults, and keeps our ``x-kubernetes-*`` keys.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import sys
from typing import Any

import pydantic
import yaml

from textclf.api import (
    GROUP,
    VERSION,
    modelevaluation,
    textclassifiermodel,
    trainingrun,
    trainingtemplate,
)

_DROP = {"title", "$defs", "discriminator"}
_ALLOWED_FORMATS = {"date-time", "int32", "int64", "float", "double", "byte", "date"}


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """Inline ``$ref`` recursively, merging sibling keys (descriptions, rules) onto the target."""
    if isinstance(node, list):
        return [_resolve(n, defs) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].split("/")[-1]
        target = copy.deepcopy(defs[name])
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**target, **siblings}
        if "x-kubernetes-validations" in target and "x-kubernetes-validations" in siblings:
            merged["x-kubernetes-validations"] = (
                target["x-kubernetes-validations"] + siblings["x-kubernetes-validations"]
            )
        return _resolve(merged, defs)
    return {k: _resolve(v, defs) for k, v in node.items()}


def _structural(node: Any) -> Any:
    """Rewrite one resolved JSON Schema node into the structural OpenAPI subset."""
    if isinstance(node, list):
        return [_structural(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    # X | None -> X (optional by not being required)
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and not node.get("x-kubernetes-int-or-string"):
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1:
                del node[key]
                outer = {k: v for k, v in node.items() if k != "default" or v is not None}
                inner = dict(rest[0])
                rules = inner.get("x-kubernetes-validations", []) + outer.get(
                    "x-kubernetes-validations", []
                )
                node = {**inner, **outer}
                if rules:
                    node["x-kubernetes-validations"] = rules
    for key in list(node):
        if key in _DROP:
            del node[key]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("default", 0) is None:
        del node["default"]
    if "format" in node and node["format"] not in _ALLOWED_FORMATS:
        del node["format"]
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
    if node.get("additionalProperties") is True:
        del node["additionalProperties"]
        node["x-kubernetes-preserve-unknown-fields"] = True
    # The API server compares whole numbers (a JSON 0 or 0.0) against a bound cast to an integer,
    # so `exclusiveMaximum: 0.5` refuses 0. Keep an inclusive bound and check strictness in CEL.
    for bound, plain, op in (
        ("exclusiveMinimum", "minimum", ">"),
        ("exclusiveMaximum", "maximum", "<"),
    ):
        value = node.pop(bound, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[plain] = value
            word = "greater" if op == ">" else "less"
            node.setdefault("x-kubernetes-validations", []).append(
                {"rule": f"self {op} {value!r}", "message": f"must be {word} than {value}"}
            )
    if node.get("x-kubernetes-int-or-string"):
        node.pop("type", None)
    if (
        node.get("type") == "object"
        and "properties" not in node
        and not any(
            k in node for k in ("additionalProperties", "x-kubernetes-preserve-unknown-fields")
        )
    ):
        node["x-kubernetes-preserve-unknown-fields"] = True
    if "maxItems" not in node and node.get("type") == "array":
        node["maxItems"] = 256
    return {
        k: (_structural(v) if k not in ("enum", "default", "required") else v)
        for k, v in node.items()
    }


def openapi_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of a pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _structural(_resolve(raw, defs))  # type: ignore[no-any-return]


def _resource_schema(kind_model: type[pydantic.BaseModel]) -> dict[str, Any]:
    schema = openapi_schema(kind_model)
    props = schema["properties"]
    props["apiVersion"] = {"type": "string", "description": "APIVersion of this object."}
    props["kind"] = {"type": "string", "description": "Kind of this object."}
    props["metadata"] = {"type": "object"}
    schema.pop("additionalProperties", None)
    schema.pop("x-kubernetes-preserve-unknown-fields", None)
    schema["required"] = ["spec"]
    return schema


def crd(
    *,
    kind: str,
    plural: str,
    short_names: tuple[str, ...],
    scope: str,
    kind_model: type[pydantic.BaseModel],
    printer_columns: list[dict[str, Any]],
    has_status: bool,
) -> dict[str, Any]:
    """A ``CustomResourceDefinition`` for one kind."""
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": _resource_schema(kind_model)},
        "additionalPrinterColumns": printer_columns,
    }
    if has_status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "labels": {"app.kubernetes.io/part-of": "textclf"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": list(short_names),
                "categories": ["textclf"],
            },
            "scope": scope,
            "versions": [version],
        },
    }


def all_crds() -> dict[str, dict[str, Any]]:
    """File name -> CRD, for every kind."""
    return {
        f"{GROUP}_{m.PLURAL}.yaml": crd(
            kind=m.KIND,
            plural=m.PLURAL,
            short_names=m.SHORT_NAMES,
            scope=scope,
            kind_model=kind_model,
            printer_columns=m.PRINTER_COLUMNS,
            has_status=has_status,
        )
        for m, kind_model, scope, has_status in (
            (textclassifiermodel, textclassifiermodel.TextClassifierModel, "Namespaced", True),
            (trainingrun, trainingrun.TrainingRun, "Namespaced", True),
            (modelevaluation, modelevaluation.ModelEvaluation, "Namespaced", True),
            (trainingtemplate, trainingtemplate.TrainingTemplate, "Cluster", True),
        )
    }


HEADER = "# Generated by `python -m textclf.api.crdgen crds/` from textclf/api; do not edit.\n"


def render(obj: dict[str, Any]) -> str:
    """YAML text of one CRD file, with the generated-file header."""
    return HEADER + yaml.safe_dump(obj, sort_keys=False, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out", type=pathlib.Path, help="folder to write the CRD files into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, obj in all_crds().items():
        (args.out / name).write_text(render(obj))
        print(f"wrote {args.out / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
