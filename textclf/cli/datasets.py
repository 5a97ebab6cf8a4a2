"""``textclf datasets upload FILE --app APP --id ID | list --app APP``: the SDK's upload (checked
with the trainer's own parser before anything is kept), from the command line."""

from __future__ import annotations

import argparse
import pathlib
import sys

from textclf.cli import backend
from textclf.sdk import local

NAME = "datasets"
HELP = "Upload a labelled CSV as a dataset of an app (checked first), or list an app's datasets."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("upload", "list"))
    parser.add_argument("file", nargs="?", help="upload: the CSV, TSV or JSON Lines file")
    parser.add_argument("--app", required=True, help="the app (a namespace on a cluster)")
    parser.add_argument("--id", help="upload: the dataset's id (default: the file's stem)")
    parser.add_argument("--text-column", help="default: input, else text")
    parser.add_argument("--label-column", help="default: concepts, else label")
    parser.add_argument("--label-separator", help="separator of several labels in one cell")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    app = backend.client(args).app(args.app)
    if args.action == "list":
        for dataset in app.list_datasets():
            info = dataset.info
            if info.get("uploaded"):
                print(f"{dataset.id}\t{info['valid']} rows\t{info['uri']}")
            else:
                print(f"{dataset.id}\tno data yet")
        return 0
    if not args.file:
        raise SystemExit("textclf datasets upload: give the file")
    path = pathlib.Path(args.file)
    dataset_id = args.id or path.stem.lower().replace("_", "-")
    try:
        dataset = app.dataset(dataset_id)
    except local.NotFound:
        dataset = app.create_dataset(dataset_id)
    try:
        report = dataset.upload_from_csv(
            path,
            text_column=args.text_column,
            label_column=args.label_column,
            label_separator=args.label_separator,
        )
    except ValueError as err:
        sys.stderr.write(f"textclf datasets upload: {err}\n")
        return 2
    print(report)
    print(f"uri: {dataset.info['uri']}  (what runs name as dataset.train.uri or .test.uri)")
    return 0
