"""``textclf status RUN``: the summary of a run, from the local runs folder (``--local``) or from the
TrainingRun's status in a cluster (current kubeconfig context, ``-n`` namespace)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pydantic

from textclf.api import trainingrun
from textclf.cli import localruns, summary

NAME = "status"
HELP = "Show a run's status, metrics beside the baseline, lift, data report and warnings."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="TrainingRun name")
    parser.add_argument("--local", action="store_true", help="read the local runs folder")
    parser.add_argument("--runs-dir", help="runs folder (default ./runs or $TEXTCLF_RUNS_DIR)")
    parser.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    parser.add_argument("--json", action="store_true", help="print the status as JSON")


def _cluster_status(name: str, namespace: str | None) -> dict[str, Any]:
    try:
        from textclf.cluster import connect  # noqa: PLC0415 - the CLI imports without the cluster extra
    except ImportError:
        raise SystemExit(
            "textclf status needs the Kubernetes client: pip install 'textclf[cli]'"
        ) from None
    conn = connect.connect(namespace)
    try:
        body = connect.read(conn, trainingrun.PLURAL, trainingrun.KIND, name)
    except connect.Missing as err:
        raise SystemExit(str(err)) from None
    finally:
        conn.close()
    return dict(body.get("status") or {})


def run(args: argparse.Namespace) -> int:
    if args.local:
        found = localruns.read_status(localruns.runs_dir(args.runs_dir) / args.run)
        if found is None:
            print(f"no local run named {args.run}", file=sys.stderr)
            return 1
        status = found
    else:
        try:
            status = trainingrun.TrainingRunStatus.model_validate(
                _cluster_status(args.run, args.namespace)
            )
        except pydantic.ValidationError as err:
            print(f"the run's status is not one this CLI understands: {err}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(status.to_wire(), indent=2))
    else:
        print(summary.render(args.run, status))
    return 0
