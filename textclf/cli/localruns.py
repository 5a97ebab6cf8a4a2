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

import datetime
import json
import os
import pathlib

import pydantic

from textclf.api import channels, codes, trainingrun

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
    """The run's status; while it trains, with the trainer's latest progress event in it, as the
    operator writes a cluster run's ``status.progress``."""
    path = run_dir / STATUS
    if not path.exists():
        return None
    status = trainingrun.TrainingRunStatus.model_validate_json(path.read_text())
    if status.code == codes.StatusCode.TRAINING:
        latest = _latest_progress(run_dir / PROGRESS)
        if latest is not None:
            status = status.model_copy(update={"progress": latest})
    return status


def _latest_progress(path: pathlib.Path) -> trainingrun.Progress | None:
    """The last whole event of ``progress.jsonl`` (the trainer may be writing the next one)."""
    if not path.exists():
        return None
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            event = channels.ProgressReport.model_validate_json(line)
        except pydantic.ValidationError:
            continue
        updated = datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.UTC)
        return trainingrun.Progress(
            **event.model_dump(exclude={"phase"}), updated_at=updated.replace(microsecond=0)
        )
    return None


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
