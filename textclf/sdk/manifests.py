"""The TrainingRun a model's ``train()`` makes, the same on both backends: the model's template and
params, its uploaded dataset with the columns the upload found, and where the version goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textclf.api import GROUP, VERSION, trainingrun


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
