"""``textclf train --app APP --model MODEL [-f params.yaml] [--dataset ID] [--wait]``: the SDK's
``model.train()`` from the shell, on the cluster or (``--local --home``) the embedded backend.

The params file is what ``textclf params`` (or ``model.get_params(save_to=...)``) wrote; ``--dataset``
sets its ``dataset_id``. Prints the new version; with ``--wait`` waits for it (Ctrl-C stops waiting,
not the run) and prints its code and the metrics of each evaluated split; the exit code is then 0 only when it trained.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
from typing import TYPE_CHECKING

import yaml

from textclf.api import codes
from textclf.cli import backend, progressview

if TYPE_CHECKING:
    from textclf.sdk.client import Model


def _params_file(
    model: Model, args: argparse.Namespace, scratch: pathlib.Path
) -> pathlib.Path | None:
    """The params file to train with: ``-f`` as given, or (``--dataset``) it or the model's params
    with that ``dataset_id``, written under ``scratch``."""
    given_file: pathlib.Path | None = args.filename
    if not args.dataset:
        return given_file
    given = model.get_params()
    if given_file is not None:
        given = dict(yaml.safe_load(given_file.read_text(encoding="utf-8")) or {})
    given["dataset_id"] = args.dataset
    written = scratch / "params.yaml"
    written.write_text(yaml.safe_dump(given, sort_keys=False), encoding="utf-8")
    return written


def run(args: argparse.Namespace) -> int:
    model = backend.client(args).app(args.app).model(args.model)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            version = model.train(yaml_file=_params_file(model, args, pathlib.Path(scratch)))
    except (ValueError, OSError, yaml.YAMLError) as err:
        sys.stderr.write(f"textclf train: {err}\n")
        return 2
    print(f"version {version} of model {args.model} started in app {args.app}")
    if not args.wait:
        return 0
    view = progressview.View(version)
    try:
        status = model.app.client.backend.wait(args.app, version, None, on_status=view.show_status)
    except KeyboardInterrupt:
        view.close()
        sys.stderr.write("\nstopped waiting; the run goes on\n")
        return 130
    view.close()
    print(f"{version}: {status.code}: {status.description}")
    for split in ("train", "validation", "test"):
        found = getattr(status.metrics, split, None)
        if found is not None:
            print(
                f"{split}: accuracy {found.accuracy:.4f}, macro F1 {found.macro_f1:.4f} "
                f"({found.examples} rows)"
            )
    return 0 if status.code == codes.StatusCode.TRAINED else 1
