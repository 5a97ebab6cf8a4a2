"""``textclf evaluate``: evaluate a trained model on a labelled dataset. ``--local`` runs it here.

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


def run(args: argparse.Namespace) -> int:
    if not args.local:
        sys.stderr.write("textclf evaluate: only --local is available in this build\n")
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
