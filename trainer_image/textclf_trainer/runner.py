"""Runs one TrainingRun end to end: params, data, training, evaluation, artifact.

``run`` is what both the Pod's entry point and ``textclf train --local`` call. It raises
``errors.TrainerError`` subclasses for failures it can name and returns an ``Outcome`` otherwise.
Order matters for the user: params are checked before any data is read, data (and, with
``fail_on_leakage``, train/test leakage) before any model is loaded, so bad input fails in seconds.
Then the data report (``datareport``) and the TF-IDF baseline (``baselines``) are computed, the model
is trained, and evaluation loads the written model folder through ``predictor``, so the reported
metrics are those of the files that ship. The warnings (``trust``) go into the Result.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import pathlib
import platform
import tempfile
from typing import Any

import numpy as np
import numpy.typing as npt

from textclf.api import channels, codes, results, trainingrun
from textclf_trainer import (
    artifacts,
    baselines,
    catalogue,
    checkpoints,
    datareport,
    errors,
    evaluation,
    examples,
    hardware,
    modelcard,
    params,
    predictor,
    progress,
    runlog,
    specs,
    storage,
    tables,
    trust,
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


def _tuned(merged: dict[str, Any]) -> bool:
    return bool(merged.get("multi_label_threshold", catalogue.TUNED) == catalogue.TUNED)


def _read(uri: str, dataset: trainingrun.Dataset, base_dir: pathlib.Path) -> tables.Table:
    raw = storage.read_bytes(uri, base_dir)
    return tables.parse(uri, raw, dataset.text_column, dataset.label_column)


def load_data(loaded: specs.LoadedRun, merged: dict[str, Any]) -> Data:
    """Read, clean and split the run's data; raises the data failure codes."""
    dataset = loaded.spec.dataset
    template = str(loaded.spec.template)
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
    fraction = dataset.validation_split
    if fraction is None:
        fraction = examples.automatic_validation(
            len(train),
            template,
            tunes_thresholds=multi and _tuned(merged),
        )
    fit, validation = examples.split_validation(train, fraction, int(merged.get("seed", 42)))
    splits = {"train": fit}
    if validation is not None:
        splits["validation"] = validation
    if dataset.test is not None:
        splits["test"], reports["test"] = clean(dataset.test.uri, concepts)
    return Data(concepts, multi, splits, reports)


def inspect(
    data: Data, merged: dict[str, Any], backbone: str, backbone_name: str
) -> datareport.Report:
    """The data report; raises ``DATA_LEAKAGE`` first when the params make leakage an error."""
    threshold = float(merged.get("leakage_threshold_percent", 1.0))
    found = datareport.leaks(data.splits)
    datareport.check(found, threshold, bool(merged.get("fail_on_leakage", False)))
    counter = datareport.backbone_counter(
        backbone, params.from_pretrained_kwargs(merged.get("tokenizer_config"))
    )
    return datareport.build(
        files=data.reports,
        splits=data.splits,
        concepts=data.concepts,
        found=found,
        counter=counter,
        tokens=backbone_name,
        max_length=int(merged.get("max_length", 128)),
        threshold_percent=threshold,
        seed=int(merged.get("seed", 42)),
    )


def decide_threshold(
    merged: dict[str, Any], data: Data, scores: dict[str, npt.NDArray[np.float32]]
) -> artifacts.Threshold:
    """A multi-label model's threshold: ``multi_label_threshold`` when it is a number; with
    ``tuned`` (the default), one per concept with the best F1 on the validation split when the run
    has one, else 0.5."""
    if not _tuned(merged):
        return float(merged["multi_label_threshold"])
    if "validation" not in scores:
        return artifacts.DEFAULT_THRESHOLD
    y_true = evaluation.targets(data.splits["validation"].labels, data.concepts, multi_label=True)
    return evaluation.tune_thresholds(y_true, scores["validation"], artifacts.DEFAULT_THRESHOLD)


def evaluate(
    folder: pathlib.Path, data: Data, merged: dict[str, Any], tracker: progress.Tracker
) -> dict[str, dict[str, Any]]:
    """Full reports per split, from the saved model. A multi-label model's threshold is decided
    first (``decide_threshold``) and written into its ``textclf.json``, so serving and later
    evaluations apply the same cut as these reports."""
    model = predictor.Predictor(folder)
    scores = {name: model.scores(split.texts) for name, split in data.splits.items()}
    threshold = model.metadata.threshold
    if data.multi_label:
        threshold = decide_threshold(merged, data, scores)
        artifacts.write_metadata(folder, dataclasses.replace(model.metadata, threshold=threshold))
        LOG.info("multi-label threshold: %s", threshold)
    reports: dict[str, dict[str, Any]] = {}
    for name, split in data.splits.items():
        y_true = evaluation.targets(split.labels, data.concepts, data.multi_label)
        reports[name] = evaluation.report(
            y_true,
            scores[name],
            data.concepts,
            multi_label=data.multi_label,
            threshold=threshold,
        )
        LOG.info(
            "%s: accuracy %.4f, macro F1 %.4f",
            name,
            reports[name]["accuracy"],
            reports[name]["macro_f1"],
        )
    tracker.reporter.report(channels.ProgressReport(percent=96, phase="evaluate"))
    return reports


def _message(
    template: str,
    data: Data,
    reports: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    warnings: list[channels.Warning],
    *,
    resumed_from: int | None,
) -> str:
    parts = [f"{template} trained on {len(data.splits['train'])} examples"]
    if resumed_from is not None:
        parts[0] += f" (resumed from the checkpoint at step {resumed_from})"
    name = trust.headline_split(list(reports))
    r = reports[name]
    parts.append(f"{name} accuracy {r['accuracy']:.4f}, macro F1 {r['macro_f1']:.4f}")
    if name in baseline:
        parts.append(f"baseline ({baselines.NAME}) macro F1 {baseline[name]['macro_f1']:.4f}")
    if warnings:
        parts.append("warnings: " + ", ".join(w.type for w in warnings))
    return "; ".join(parts)


def _job(
    template: str,
    merged: dict[str, Any],
    data: Data,
    *,
    root: pathlib.Path,
    store: checkpoints.Store,
    tracker: progress.Tracker,
    log: progress.Log,
) -> base.TrainJob:
    model_dir = root / "artifact"
    model_dir.mkdir(exist_ok=True)
    return base.TrainJob(
        template=template,
        params=merged,
        backbone=params.backbone(merged),
        concepts=data.concepts,
        multi_label=data.multi_label,
        train=data.splits["train"],
        validation=data.splits.get("validation"),
        model_dir=model_dir,
        work_dir=root,
        checkpoints=store,
        tracker=tracker,
        log=log,
    )


def run_rank(loaded: specs.LoadedRun, work_dir: pathlib.Path | None = None) -> None:
    """A non-zero rank of a multi-GPU run (``distributed``): the same params, data and template
    training as rank 0, whose Trainer it joins; it reports, evaluates and publishes nothing."""
    template = loaded.spec.template
    if template not in catalogue.FINE_TUNING:
        return  # trained on rank 0 alone
    merged = params.effective(template, loaded.spec.params)
    data = load_data(loaded, merged)
    with tempfile.TemporaryDirectory(prefix="textclf-rank-", dir=work_dir) as scratch:
        root = pathlib.Path(scratch)
        store = checkpoints.open_store(loaded, root, claim=False)  # rank 0 claims it
        silent = progress.Log()
        job = _job(
            template,
            merged,
            data,
            root=root,
            store=store,
            tracker=progress.Tracker(silent),
            log=silent,
        )
        template_code.get(template).train(job)


def run(
    loaded: specs.LoadedRun,
    *,
    reporter: progress.Reporter,
    work_dir: pathlib.Path | None = None,
) -> Outcome:
    """Train, evaluate and publish one run; its log goes into the artifact (``runlog``)."""
    with runlog.captured() as captured:
        return _run(loaded, reporter, work_dir, captured)


def _run(
    loaded: specs.LoadedRun,
    reporter: progress.Reporter,
    work_dir: pathlib.Path | None,
    captured: io.StringIO,
) -> Outcome:
    log = progress.Log()
    tracker = progress.Tracker(progress.Fanout([reporter, log]))
    tracker.phase("load")
    spec = loaded.spec
    output_uri = loaded.output_uri  # before any work: a run with nowhere to write fails first,
    storage.check_output(output_uri, loaded.base_dir, loaded.identity())  # or with another's
    if spec.template is None:
        raise errors.invalid_params(
            "spec.template: name the template to train with (in a cluster, the model's "
            "spec.template is used when the run names none)"
        )
    template: str = spec.template
    spec = spec.model_copy(update={"template": template})
    merged = params.effective(template, spec.params)
    backbone = params.backbone(merged)
    backbone_name = str((merged.get("model_config") or {}).get(params.BACKBONE_KEY) or backbone)
    data = load_data(loaded, merged)
    tracker.phase("inspect")
    report = inspect(data, merged, backbone, backbone_name)
    summary = report.summary()
    LOG.info("data report: %s", json.dumps(summary.to_wire()))
    leak_message = datareport.warning_message(report.leaks, report.threshold_percent)
    if leak_message:
        LOG.warning("data leakage: %s", leak_message)
    baseline: dict[str, dict[str, Any]] = {}
    if merged.get("baseline", True):
        tracker.phase("baseline")
        baseline = baselines.evaluate(
            data.splits, data.concepts, data.multi_label, int(merged.get("seed", 42))
        )
        for name, r in baseline.items():
            LOG.info(
                "baseline %s: accuracy %.4f, macro F1 %.4f", name, r["accuracy"], r["macro_f1"]
            )
    LOG.info(
        "run %s: %s on %s, %d concepts, %s; %s",
        loaded.name,
        template,
        hardware.describe(),
        len(data.concepts),
        ", ".join(f"{k} {len(v)}" for k, v in data.splits.items()),
        "multi-label" if data.multi_label else "single-label",
    )
    with tempfile.TemporaryDirectory(prefix="textclf-run-", dir=work_dir) as scratch:
        root = pathlib.Path(scratch)
        model_dir = root / "artifact"
        model_dir.mkdir()
        store = checkpoints.open_store(loaded, root)
        job = _job(template, merged, data, root=root, store=store, tracker=tracker, log=log)
        tracker.phase("train")
        template_code.get(template).train(job)
        tracker.phase("evaluate")
        reports = evaluate(model_dir, data, merged, tracker)
        tracker.phase("save")
        warnings = trust.warnings(
            leak_message=leak_message,
            model=reports,
            baseline=baseline,
        )
        result = channels.Result(
            code=codes.StatusCode.TRAINED,
            message=_message(
                template, data, reports, baseline, warnings, resumed_from=tracker.resumed_from
            ),
            metrics={name: evaluation.headline_split(r) for name, r in reports.items()},
            concepts=list(data.concepts),
            baseline={name: evaluation.headline_split(r) for name, r in baseline.items()},
            data_report=summary,
            warnings=warnings,
        )
        lift = results.lift(result)
        full = {
            "run": loaded.name,
            "template": template,
            "concepts": list(data.concepts),
            "multi_label": data.multi_label,
            "data": {name: r.to_dict() for name, r in data.reports.items()},
            "dataReport": summary.to_wire(),
            "warnings": [w.to_wire() for w in warnings],
            "environment": {"device": hardware.describe(), "python": platform.python_version()},
            "splits": reports,
            "baseline": (
                {**baselines.settings(int(merged.get("seed", 42))), "splits": baseline}
                if baseline
                else None
            ),
            "lift": lift.to_wire() if lift is not None else None,
        }
        (model_dir / artifacts.METRICS).write_text(json.dumps(full, indent=1) + "\n")
        (model_dir / datareport.FILE).write_text(json.dumps(report.to_dict(), indent=1) + "\n")
        (model_dir / artifacts.MODEL_CARD).write_text(
            modelcard.render(
                run_name=loaded.name,
                metadata=artifacts.read_metadata(model_dir),  # with the decided threshold
                backbone=backbone_name,
                params=merged,
                report=report,
                metrics=reports,
                baseline=baseline,
                lift=lift,
                warnings=warnings,
            )
        )
        tracker.phase("done")
        (model_dir / artifacts.TRAINING_LOG).write_text(log.to_jsonl())
        LOG.info("run %s: sealing and publishing the artifact to %s", loaded.name, output_uri)
        (model_dir / runlog.FILE).write_text(captured.getvalue())
        artifacts.write_owner(model_dir, loaded.identity())
        digest = artifacts.seal(model_dir)
        uri = storage.publish(model_dir, output_uri, loaded.base_dir)
        store.clear()
    artifact = trainingrun.Artifact(uri=uri, digest=digest)
    metrics = trainingrun.Metrics(**{name: evaluation.headline(r) for name, r in reports.items()})
    result = result.model_copy(update={"artifact": artifact})
    return Outcome(result=result, metrics=metrics, report=full, artifact_uri=uri)


@dataclasses.dataclass(frozen=True)
class Evaluated:
    """A model scored on a dataset file: the report, what happened to the file's rows, and the
    scored rows themselves (kept by the SDK, so comparisons are computed from them)."""

    report: dict[str, Any]
    data: examples.DataReport
    labels: tuple[tuple[str, ...], ...]
    scores: npt.NDArray[np.float32]


def evaluate_file(
    model: predictor.Predictor,
    uri: str,
    *,
    text_column: str = "input",
    label_column: str = "concepts",
    label_separator: str | None = None,
    tolerance_percent: float = 5.0,
    base_dir: pathlib.Path | None = None,
) -> Evaluated:
    """Evaluate a trained model on a dataset file (``textclf evaluate --local``, the SDK's
    evaluations). Labels outside the model's concepts count as invalid rows."""
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
    return Evaluated(full, data_report, data.labels, scores)
