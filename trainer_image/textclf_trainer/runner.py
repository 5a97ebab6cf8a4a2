"""Runs one TrainingRun end to end: params, data, training, evaluation, artifact.

``run`` is what both the Pod's entry point and ``textclf train --local`` call. It raises
``errors.TrainerError`` subclasses for failures it can name and returns an ``Outcome`` otherwise.
Order matters for the user: params are checked before any data is read, data before any model is
loaded, so bad input fails in seconds. Evaluation loads the written model folder through
``predictor``, so the reported metrics are those of the files that ship.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import pathlib
import platform
import tempfile
from typing import Any

from textclf.api import channels, codes, trainingrun
from textclf_trainer import (
    artifacts,
    evaluation,
    examples,
    hardware,
    modelcard,
    params,
    predictor,
    progress,
    specs,
    storage,
    tables,
)
from textclf_trainer import templates as template_code
from textclf_trainer.templates import base

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Outcome:
    result: channels.Result  # for the termination message
    metrics: trainingrun.Metrics  # for status.metrics
    report: dict[str, Any]  # the content of metrics.json
    artifact_uri: str


@dataclasses.dataclass(frozen=True)
class Data:
    concepts: tuple[str, ...]
    multi_label: bool
    splits: dict[str, examples.Examples]  # train, validation?, test?
    reports: dict[str, examples.DataReport]  # per file: train, test?
    notes: list[str]


def _read(uri: str, dataset: trainingrun.Dataset, base_dir: pathlib.Path) -> tables.Table:
    raw = storage.read_bytes(uri, base_dir)
    return tables.parse(uri, raw, dataset.text_column, dataset.label_column)


def load_data(loaded: specs.LoadedRun, merged: dict[str, Any]) -> Data:
    """Read, clean and split the run's data; raises the data failure codes."""
    dataset = loaded.spec.dataset
    multi = params.multi_label(merged, dataset.label_separator)

    def clean(
        uri: str, concepts: tuple[str, ...] | None
    ) -> tuple[examples.Examples, examples.DataReport]:
        return examples.clean(
            _read(uri, dataset, loaded.base_dir),
            concepts=concepts,
            multi_label=multi,
            separator=dataset.label_separator,
            tolerance_percent=dataset.invalid_data_tolerance_percent,
        )

    given = tuple(merged["concepts"]) if merged.get("concepts") else None
    train, train_report = clean(dataset.train.uri, given)
    concepts = examples.decide_concepts(train, given)
    examples.check_sufficient(train, concepts, multi)
    reports = {"train": train_report}
    fit, validation = examples.split_validation(
        train, dataset.validation_split, int(merged.get("seed", 42))
    )
    splits = {"train": fit}
    if validation is not None:
        splits["validation"] = validation
    notes: list[str] = []
    if dataset.test is not None:
        test, reports["test"] = clean(dataset.test.uri, concepts)
        splits["test"] = test
        leaked = examples.overlap(train, test)
        if leaked:
            notes.append(
                f"{leaked} of {len(test)} test texts also occur in the training data: "
                "test metrics overstate how the model does on new text"
            )
    return Data(concepts, multi, splits, reports, notes)


def evaluate(
    folder: pathlib.Path, data: Data, tracker: progress.Tracker
) -> dict[str, dict[str, Any]]:
    """Full reports per split, from the saved model."""
    model = predictor.Predictor(folder)
    reports: dict[str, dict[str, Any]] = {}
    for name, split in data.splits.items():
        scores = model.scores(split.texts)
        y_true = evaluation.targets(split.labels, data.concepts, data.multi_label)
        reports[name] = evaluation.report(
            y_true,
            scores,
            data.concepts,
            multi_label=data.multi_label,
            threshold=model.metadata.threshold,
        )
        LOG.info(
            "%s: accuracy %.4f, macro F1 %.4f",
            name,
            reports[name]["accuracy"],
            reports[name]["macro_f1"],
        )
    tracker.reporter.report(channels.ProgressReport(percent=96, phase="evaluate"))
    return reports


def _message(template: str, data: Data, reports: dict[str, dict[str, Any]]) -> str:
    parts = [f"{template} trained on {len(data.splits['train'])} examples"]
    for name in ("test", "validation", "train"):
        if name in reports:
            r = reports[name]
            parts.append(f"{name} accuracy {r['accuracy']:.4f}, macro F1 {r['macro_f1']:.4f}")
            break
    return "; ".join(parts + data.notes)


def run(
    loaded: specs.LoadedRun,
    *,
    reporter: progress.Reporter,
    work_dir: pathlib.Path | None = None,
) -> Outcome:
    """Train, evaluate and publish one run."""
    log = progress.Log()
    tracker = progress.Tracker(progress.Fanout([reporter, log]))
    tracker.phase("load")
    spec = loaded.spec
    merged = params.effective(spec.template, spec.params)
    backbone = params.backbone(merged)
    data = load_data(loaded, merged)
    LOG.info(
        "run %s: %s on %s, %d concepts, %s; %s",
        loaded.name,
        spec.template,
        hardware.describe(),
        len(data.concepts),
        ", ".join(f"{k} {len(v)}" for k, v in data.splits.items()),
        "multi-label" if data.multi_label else "single-label",
    )
    with tempfile.TemporaryDirectory(prefix="textclf-run-", dir=work_dir) as scratch:
        root = pathlib.Path(scratch)
        model_dir = root / "artifact"
        model_dir.mkdir()
        job = base.TrainJob(
            template=spec.template,
            params=merged,
            backbone=backbone,
            concepts=data.concepts,
            multi_label=data.multi_label,
            train=data.splits["train"],
            validation=data.splits.get("validation"),
            model_dir=model_dir,
            work_dir=root,
            tracker=tracker,
            log=log,
        )
        tracker.phase("train")
        metadata = template_code.get(spec.template).train(job)
        tracker.phase("evaluate")
        reports = evaluate(model_dir, data, tracker)
        tracker.phase("save")
        full = {
            "run": loaded.name,
            "template": spec.template,
            "concepts": list(data.concepts),
            "multi_label": data.multi_label,
            "data": {name: r.to_dict() for name, r in data.reports.items()},
            "notes": data.notes,
            "environment": {"device": hardware.describe(), "python": platform.python_version()},
            "splits": reports,
        }
        (model_dir / artifacts.METRICS).write_text(json.dumps(full, indent=1) + "\n")
        (model_dir / artifacts.MODEL_CARD).write_text(
            modelcard.render(
                run_name=loaded.name,
                metadata=metadata,
                backbone=(merged.get("model_config") or {}).get(params.BACKBONE_KEY) or backbone,
                params=merged,
                reports=data.reports,
                split_sizes={k: len(v) for k, v in data.splits.items()},
                label_counts=data.reports["train"].label_counts,
                metrics=reports,
                notes=data.notes,
            )
        )
        tracker.phase("done")
        (model_dir / artifacts.TRAINING_LOG).write_text(log.to_jsonl())
        digest = artifacts.seal(model_dir)
        uri = storage.publish(model_dir, spec.output.uri, loaded.base_dir)
    artifact = trainingrun.Artifact(uri=uri, digest=digest)
    metrics = trainingrun.Metrics(**{name: evaluation.headline(r) for name, r in reports.items()})
    result = channels.Result(
        code=codes.StatusCode.TRAINED,
        message=_message(spec.template, data, reports),
        metrics={name: evaluation.headline_split(r) for name, r in reports.items()},
        artifact=artifact,
        concepts=list(data.concepts),
    )
    return Outcome(result=result, metrics=metrics, report=full, artifact_uri=uri)


def evaluate_file(
    model: predictor.Predictor,
    uri: str,
    *,
    text_column: str = "input",
    label_column: str = "concepts",
    label_separator: str | None = None,
    tolerance_percent: float = 5.0,
    base_dir: pathlib.Path | None = None,
) -> tuple[dict[str, Any], examples.DataReport]:
    """Evaluate a trained model on a dataset file (``textclf evaluate --local``): the full report and
    what happened to the file's rows. Labels outside the model's concepts count as invalid rows."""
    table = tables.parse(uri, storage.read_bytes(uri, base_dir), text_column, label_column)
    data, data_report = examples.clean(
        table,
        concepts=model.concepts,
        multi_label=model.metadata.multi_label,
        separator=label_separator,
        tolerance_percent=tolerance_percent,
    )
    scores = model.scores(data.texts)
    y_true = evaluation.targets(data.labels, model.concepts, model.metadata.multi_label)
    full = evaluation.report(
        y_true,
        scores,
        model.concepts,
        multi_label=model.metadata.multi_label,
        threshold=model.metadata.threshold,
    )
    return full, data_report
