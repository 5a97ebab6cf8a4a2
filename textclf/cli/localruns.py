"""The local backend's runs folder: where ``textclf train --local`` keeps each run, and how
``predict``/``evaluate --local`` find a run's artifact again.

Layout (default root ``./runs``, or ``--runs-dir``, or env ``TEXTCLF_RUNS_DIR``)::

    runs/<run name>/status.json    a TrainingRunStatus (code, metrics, artifact, progress, conditions)
    runs/<run name>/train.log      the trainer's log
    runs/<run name>/progress.jsonl progress events
    runs/<run name>/artifact/      the model, unless the run file names another output.uri

Torch-free.
"""

from __future__ import annotations

import json
import os
import pathlib

from textclf.api import trainingrun

RUNS_DIR_ENV = "TEXTCLF_RUNS_DIR"
STATUS = "status.json"
LOG = "train.log"
PROGRESS = "progress.jsonl"
ARTIFACT = "artifact"
METADATA = "textclf.json"  # marks an artifact folder (textclf_trainer.artifacts.METADATA)


def runs_dir(value: str | None) -> pathlib.Path:
    return pathlib.Path(value or os.environ.get(RUNS_DIR_ENV) or "runs")


def write_status(run_dir: pathlib.Path, status: trainingrun.TrainingRunStatus) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / (STATUS + ".tmp")
    tmp.write_text(json.dumps(status.to_wire(), indent=2) + "\n")
    tmp.replace(run_dir / STATUS)


def read_status(run_dir: pathlib.Path) -> trainingrun.TrainingRunStatus | None:
    path = run_dir / STATUS
    if not path.exists():
        return None
    return trainingrun.TrainingRunStatus.model_validate_json(path.read_text())


def artifact_location(value: str, root: pathlib.Path) -> str:
    """A run name or an artifact path/URI -> the artifact's path or URI.

    An existing folder with ``textclf.json`` is an artifact; a URI with a scheme is used as is;
    otherwise ``value`` names a run under ``root`` and its status says where the artifact is.
    """
    path = pathlib.Path(value)
    if (path / METADATA).exists():
        return str(path)
    if "://" in value:
        return value
    run_dir = root / value
    status = read_status(run_dir)
    if status is not None and status.artifact is not None:
        return status.artifact.uri
    if (run_dir / ARTIFACT / METADATA).exists():
        return str(run_dir / ARTIFACT)
    raise FileNotFoundError(
        f"{value!r} is neither an artifact folder nor a trained run under {root}/"
    )
