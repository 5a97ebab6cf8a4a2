"""``textclf serve RUN_OR_ARTIFACT``: the predictor server on this machine, the same one a model's
serving Deployment runs (KServe V1 and Open Inference V2 on ``--host``/``--port``).

The model is a local run name (looked up under the runs folder) or an artifact folder/URI. Its name in
the URL paths is ``--name``, by default the run's name (or the artifact folder's name). The artifact's digest is checked against the run's status when there is one.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys

from textclf.cli import localruns
from textclf_trainer import serveargs

NAME = "serve"
HELP = "Serve a trained model over HTTP (KServe V1, Open Inference V2) on this machine."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="run name or artifact folder/URI")
    parser.add_argument("--name", help="the model's name in URL paths (default: see above)")
    parser.add_argument("--runs-dir", help="runs folder (default ./runs or $TEXTCLF_RUNS_DIR)")
    serveargs.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    root = localruns.runs_dir(args.runs_dir)
    try:
        location = localruns.artifact_location(args.model, root)
    except FileNotFoundError as exc:
        sys.stderr.write(f"textclf serve: {exc}\n")
        return 2
    status = localruns.read_status(root / args.model) if "/" not in args.model else None
    digest = status.artifact.digest if status is not None and status.artifact else None
    name = args.name or (args.model if status is not None else pathlib.Path(location).name)
    from textclf_trainer import server  # noqa: PLC0415  (torch: lazily)

    settings = dataclasses.replace(server.settings_from(args, location, name), digest=digest)
    print(f"serving {name} from {location} on http://{args.host}:{args.port}", flush=True)
    example = '{"instances": ["some text"]}'
    url = f"http://{args.host}:{args.port}/v1/models/{name}:predict"
    print(f"  curl -s -d '{example}' {url}", flush=True)
    server.run(settings)
    return 0
