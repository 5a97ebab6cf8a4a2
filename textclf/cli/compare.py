"""``textclf compare --app APP --model M --dataset D [--dataset D2 | --model M2] [-o FOLDER]``.

One model across datasets, or several models on one dataset, from their finished evaluations'
stored per-row scores (``textclf.EvalResultCompare``): prints the totals and the per-concept table;
with ``-o`` also writes ``FOLDER/conf-<threshold>/`` (the two CSV tables, ROC, PR and confusion
matrix plots).
"""

from __future__ import annotations

import argparse
import sys

from textclf.cli import backend

NAME = "compare"
HELP = "Compare evaluations: per-concept and total tables, ROC/PR/confusion plots (-o)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--app", required=True, help="the app (a namespace on a cluster)")
    parser.add_argument("--model", action="append", required=True, help="a model (repeatable)")
    parser.add_argument("--dataset", action="append", required=True, help="a dataset (repeatable)")
    parser.add_argument("-o", "--output", help="write tables and plots under this folder")
    parser.add_argument("--threshold", type=float, default=0.5, help="confidence threshold")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from textclf.sdk.compare import EvalResultCompare  # noqa: PLC0415  (pandas, matplotlib)

    app = backend.client(args).app(args.app)
    try:
        compare = EvalResultCompare(
            models=[app.model(m) for m in args.model],
            datasets=[app.dataset(d) for d in args.dataset],
        )
        per_concept, totals = compare.detailed_summary(confidence_threshold=args.threshold)
        written = (
            compare.all(args.output, confidence_threshold=args.threshold, overwrite=args.overwrite)
            if args.output
            else None
        )
    except (ValueError, FileExistsError) as err:
        sys.stderr.write(f"textclf compare: {err}\n")
        return 2
    print(totals.to_string(index=False))
    print()
    print(per_concept.to_string(index=False))
    if written is not None:
        print(f"\ntables and plots written to {written}")
    return 0
