"""The CRD files are generated from the models: a test fails when they drift, and the structural rules
the API server demands (no unknown-field escape hatch in status, bounded lists) hold."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
import yaml

from textclf.api import crdgen

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_crd_files_match_the_models() -> None:
    generated = crdgen.all_crds()
    on_disk = {p.name for p in (REPO / "crds").glob("*.yaml")}
    assert on_disk == set(generated), "crds/ holds files the generator does not make, or lacks some"
    for name, obj in generated.items():
        assert (REPO / "crds" / name).read_text() == crdgen.render(obj), (
            f"crds/{name} drifted from textclf/api: run `make crds`"
        )


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.get("properties", {}).items():
            found += _walk(value, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            found += _walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            found += _walk(node["additionalProperties"], f"{path}{{}}")
    return found


@pytest.mark.parametrize("name", sorted(crdgen.all_crds()))
def test_schema_is_structural_and_bounded(name: str) -> None:
    crd = crdgen.all_crds()[name]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert ("$ref" not in node and "anyOf" not in node) or node.get(
            "x-kubernetes-int-or-string"
        ), f"{name}{path}: not structural"
        if node.get("type") == "array":
            assert "maxItems" in node, f"{name}{path}: unbounded list"
        if path.startswith(".status"):
            assert not node.get("x-kubernetes-preserve-unknown-fields"), (
                f"{name}{path}: status must be fully typed"
            )
        assert (
            "type" in node
            or node.get("x-kubernetes-int-or-string")
            or node.get("x-kubernetes-preserve-unknown-fields")
        ), f"{name}{path}: no type"


def test_short_names_and_scope() -> None:
    crds = {c["spec"]["names"]["kind"]: c for c in crdgen.all_crds().values()}
    assert crds["TextClassifierModel"]["spec"]["names"]["shortNames"] == ["tcm"]
    assert crds["TrainingRun"]["spec"]["names"]["shortNames"] == ["tr"]
    assert crds["TrainingTemplate"]["spec"]["names"]["shortNames"] == ["tt"]
    assert crds["TrainingTemplate"]["spec"]["scope"] == "Cluster"
    for kind in ("TextClassifierModel", "TrainingRun"):
        version = crds[kind]["spec"]["versions"][0]
        assert version["subresources"] == {"status": {}}


def test_files_are_yaml_of_one_crd_each() -> None:
    for path in (REPO / "crds").glob("*.yaml"):
        docs = list(yaml.safe_load_all(path.read_text()))
        assert len(docs) == 1
        assert docs[0]["kind"] == "CustomResourceDefinition"
