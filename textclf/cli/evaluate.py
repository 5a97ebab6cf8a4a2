"""``textclf evaluate``: evaluate a trained model on a labelled dataset.

With ``--app``: the SDK's ``model.evaluate`` — ``textclf evaluate MODEL --app APP --dataset DATASET_ID
--id EVAL [--version V] [--wait]`` makes a ModelEvaluation on the cluster (or, with ``--local``, an
evaluation of the embedded backend) and, with ``--wait``, prints its summary when done.
Without ``--app``, ``--local`` evaluates a run or artifact folder here, at once (``MODEL`` is the run
name or the artifact, ``--dataset`` a file or URI):

Prints accuracy, macro precision/recall/F1, ROC AUC and per-concept rows (``--json``: the full report,
as in the artifact's ``metrics.json``). Rows with labels outside the model's concepts are dropped and
counted, as in training; the dataset's column mapping defaults to ``input,concepts``.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from textclf.cli import localruns

NAME = "evaluate"
HELP = "Evaluate a trained model on a labelled dataset (--local: on this machine)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="run name or artifact folder/URI")
    parser.add_argument("--dataset", required=True, help="dataset URI or path (CSV, TSV, JSONL)")
    parser.add_argument("--local", action="store_true", help="evaluate in this process")
    parser.add_argument("--runs-dir", help="runs folder (default ./runs or $TEXTCLF_RUNS_DIR)")
    parser.add_argument("--text-column", default="input")
    parser.add_argument("--label-column", default="concepts")
    parser.add_argument("--label-separator", help="separator of labels in a multi-label cell")
    parser.add_argument("--invalid-data-tolerance-percent", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    parser.add_argument("--app", help="the app: evaluate MODEL there (a ModelEvaluation)")
    parser.add_argument("--id", help="--app: the evaluation's id (default: MODEL-DATASET)")
    parser.add_argument("--version", help="--app: the version (default: the latest trained)")
    parser.add_argument("--wait", action="store_true", help="--app: wait and print the summary")
    parser.add_argument("--home", help="--app --local: the embedded backend's folder")
    parser.add_argument("--context", help="--app: kubeconfig context (default: the current one)")


def _in_app(args: argparse.Namespace) -> int:
    from textclf.cli import backend  # noqa: PLC0415

    model = backend.client(args).app(args.app).model(args.model)
    eval_id = args.id or f"{args.model}-{args.dataset}"
    try:
        started = model.evaluate(dataset_id=args.dataset, eval_id=eval_id, version_id=args.version)
    except ValueError as err:
        sys.stderr.write(f"textclf evaluate: {err}\n")
        return 2
    print(
        f"evaluation {eval_id} of {args.model} {started.version_id} on {args.dataset}: {started.status}"
    )
    if not args.wait:
        return 0
    try:
        done = model.wait_for_evaluation(eval_id)
    except KeyboardInterrupt:
        sys.stderr.write("\nstopped waiting; the evaluation goes on\n")
        return 130
    print(f"{done.status}: {done.description}")
    if done.summary is None:
        return 1
    for key, value in done.summary.model_dump().items():
        print(
            f"{key:<20}{'n/a' if value is None else f'{value:.4f}' if isinstance(value, float) else value}"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    if args.app:
        return _in_app(args)
    if not args.local:
        sys.stderr.write(
            "textclf evaluate: give --app APP (a ModelEvaluation of MODEL on the uploaded dataset), "
            "or --local to evaluate a run or artifact here\n"
        )
        return 2
    try:
        location = localruns.artifact_location(args.model, localruns.runs_dir(args.runs_dir))
    except FileNotFoundError as exc:
        sys.stderr.write(f"textclf evaluate: {exc}\n")
        return 2
    from textclf_trainer import entrypoint, errors, predictor, runner  # noqa: PLC0415

    entrypoint.quiet_libraries()
    model = predictor.Predictor.load(location)
    dataset = (
        args.dataset if "://" in args.dataset else pathlib.Path(args.dataset).resolve().as_uri()
    )
    try:
        evaluated = runner.evaluate_file(
            model,
            dataset,
            text_column=args.text_column,
            label_column=args.label_column,
            label_separator=args.label_separator,
            tolerance_percent=args.invalid_data_tolerance_percent,
        )
        report, data = evaluated.report, evaluated.data
    except errors.TrainerError as exc:
        sys.stderr.write(f"textclf evaluate: {exc.detail}: {exc.message}\n")
        return exc.exit_code
    if args.json:
        print(json.dumps({"data": data.to_dict(), "metrics": report}, indent=1))
        return 0
    print(f"{dataset}: {data.valid} of {data.rows} rows evaluated")
    for key in (
        "accuracy",
        "macro_precision",
        "macro_recall",
        "macro_f1",
        "weighted_f1",
        "macro_roc_auc",
    ):
        value = report.get(key)
        print(f"{key:<16}{'n/a' if value is None else f'{value:.4f}'}")
    print(f"{'concept':<24}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for row in report["per_concept"]:
        print(
            f"{row['concept'][:23]:<24}{row['precision']:>10.4f}{row['recall']:>8.4f}"
            f"{row['f1']:>8.4f}{row['support']:>9}"
        )
    return 0
