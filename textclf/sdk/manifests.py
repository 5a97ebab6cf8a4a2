"""The objects a model's calls make: the TrainingRun of ``train()`` (the same on both backends: the
model's template and params, its uploaded dataset with the columns the upload found, and where the
version goes) and the ModelEvaluation of ``evaluate()`` on a cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textclf.api import GROUP, VERSION, modelevaluation, trainingrun


def training_run(
    version: str,
    *,
    model: str,
    template: str,
    params: Mapping[str, Any],
    dataset: Mapping[str, Any],
    output: str,
) -> dict[str, Any]:
    """The manifest, checked as the API server checks it (``ValueError`` naming the field)."""
    data: dict[str, Any] = {
        "train": {"uri": dataset["uri"]},
        "textColumn": dataset["text_column"],
        "labelColumn": dataset["label_column"],
    }
    if dataset.get("label_separator"):
        data["labelSeparator"] = dataset["label_separator"]
    spec = {
        "modelRef": {"name": model},
        "template": template,
        "params": dict(params),
        "dataset": data,
        "output": {"uri": output},
    }
    trainingrun.TrainingRunSpec.model_validate(spec)  # pydantic's ValidationError is a ValueError
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TrainingRun",
        "metadata": {"name": version},
        "spec": spec,
    }


DATASET_LABEL = "textclf.io/dataset"
"""On a ModelEvaluation the SDK makes: the id of the uploaded dataset it evaluates on."""


def model_evaluation(
    name: str, *, model: str, version: str | None, dataset_id: str, dataset: Mapping[str, Any]
) -> dict[str, Any]:
    """The ModelEvaluation of ``model.evaluate(...)``, checked as the API server checks it."""
    data: dict[str, Any] = {
        "uri": dataset["uri"],
        "textColumn": dataset["text_column"],
        "labelColumn": dataset["label_column"],
    }
    if dataset.get("label_separator"):
        data["labelSeparator"] = dataset["label_separator"]
    spec: dict[str, Any] = {"modelRef": {"name": model}, "dataset": data}
    if version:
        spec["version"] = version
    modelevaluation.ModelEvaluationSpec.model_validate(spec)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": modelevaluation.KIND,
        "metadata": {"name": name, "labels": {DATASET_LABEL: dataset_id}},
        "spec": spec,
    }
