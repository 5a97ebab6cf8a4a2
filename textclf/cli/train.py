"""``textclf train``: train a TrainingRun. ``--local`` runs it in this process (the embedded backend)
with a progress bar, and keeps status, log and artifact under ``runs/<name>/``.

Relative ``file://`` URIs (``file://../data/train.csv``, no third slash) are resolved against the run
file's folder; ``file:///abs/path`` is absolute. Without ``output.uri`` the artifact goes to
``runs/<name>/artifact``. The exit code is the trainer's (0, 10-15 user errors, 20 infrastructure, 1).
status.json maps the trainer's Result as the operator does (``textclf.api.results``): metrics, baseline,
lift, data report and the warning conditions (DataLeakage, BelowBaseline, SingleClassPredictions).
Without ``--local`` the run file is applied to the cluster (``clustertrain``; ``--wait`` watches it).
With ``--app APP --model MODEL`` it is the SDK's ``model.train()`` instead (``apptrain``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import pathlib
import sys
from typing import Any

from textclf.api import channels, codes, results, trainingrun
from textclf.api import conditions as conds
from textclf.cli import localruns, progressview, summary

NAME = "train"
HELP = "Train a model from a TrainingRun file: on the cluster (--wait: watch it), or --local."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--filename", type=pathlib.Path, help="run file (with --app: a params file)"
    )
    parser.add_argument("--app", help="train a new version of --model in this app (the SDK's)")
    parser.add_argument("--model", help="--app: the model")
    parser.add_argument("--dataset", help="--app: the uploaded dataset to train on")
    parser.add_argument("--home", help="--app --local: the embedded backend's folder")
    parser.add_argument("--local", action="store_true", help="train in this process")
    parser.add_argument("-n", "--namespace", help="cluster: the namespace (default: the context's)")
    parser.add_argument("--context", help="cluster: kubeconfig context (default: the current one)")
    parser.add_argument(
        "--wait", action="store_true", help="cluster: watch the run until it is trained or failed"
    )
    parser.add_argument("--runs-dir", help="runs folder (default ./runs or $TEXTCLF_RUNS_DIR)")
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "json"),
        default="auto",
        help="a bar on a terminal, a line per change otherwise (auto); json: the trainer's events",
    )


class _OnView:
    """The trainer's progress events, on the same view as a cluster run's status."""

    def __init__(self, view: progressview.View) -> None:
        self.view = view

    def report(self, event: channels.ProgressReport) -> None:
        code = str(codes.StatusCode.TRAINING)  # what the run's status says until the summary
        self.view.show(code, event.percent, loss=event.loss, phase=event.phase)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _with_default_output(document: Any, run_dir: pathlib.Path) -> Any:
    """The run file's content, with output.uri defaulted into the run's folder."""
    if not isinstance(document, dict):
        return document
    body = document["spec"] if isinstance(document.get("spec"), dict) else document
    if not body.get("output"):
        body["output"] = {"uri": (run_dir / localruns.ARTIFACT).resolve().as_uri()}
    return document


def _run_name(path: pathlib.Path) -> str:
    """metadata.name of the run file, else the file's stem."""
    import yaml  # noqa: PLC0415

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path.stem
    metadata = document.get("metadata") if isinstance(document, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return str(name) if name else path.stem


def _status(
    started: datetime.datetime,
    code: codes.StatusCode,
    result: channels.Result | None = None,
    **fields: Any,
) -> trainingrun.TrainingRunStatus:
    now = _now()
    conditions: list[conds.Condition] = []
    if code == codes.StatusCode.TRAINED:
        conditions = conds.set_condition(
            conditions,
            type=conds.SUCCEEDED,
            status="True",
            reason=conds.REASON_TRAINED,
            message="trained",
            now=now,
        )
        if result is not None:  # the same mapping as the operator's (textclf.api.results)
            conditions = results.warning_conditions(conditions, result, now, None)
            fields.update(
                metrics=results.metrics(result.metrics),
                baseline=results.metrics(result.baseline),
                lift=results.lift(result),
                data_report=result.data_report,
            )
    elif code == codes.StatusCode.FAILED:
        conditions = conds.set_condition(
            conditions,
            type=conds.FAILED,
            status="True",
            reason=conds.REASON_USER_ERROR
            if fields.get("detail_code") in codes.EXIT_CODE_FOR_DETAIL
            else "InternalError",
            message=fields.get("description") or "failed",
            now=now,
        )
    else:
        conditions = conds.set_condition(
            conditions,
            type=conds.RUNNING,
            status="True",
            reason=conds.REASON_POD_RUNNING,
            message="training locally",
            now=now,
        )
    done = code in (codes.StatusCode.TRAINED, codes.StatusCode.FAILED)
    return trainingrun.TrainingRunStatus(
        code=code,
        conditions=conditions,
        attempts=1,
        start_time=started,
        completion_time=now if done else None,
        **fields,
    )


def run(args: argparse.Namespace) -> int:
    if args.app:
        if not args.model:
            raise SystemExit("textclf train --app: give --model")
        from textclf.cli import apptrain  # noqa: PLC0415

        return apptrain.run(args)
    if args.filename is None:
        raise SystemExit("textclf train: give -f RUN_FILE (or --app APP --model MODEL)")
    if not args.local:
        from textclf.cli import clustertrain  # noqa: PLC0415  (the cli extra: lazily)

        return clustertrain.run(args.filename, args.namespace, args.context, args.wait)
    from textclf_trainer import entrypoint, progress, specs  # noqa: PLC0415  (torch: lazily)

    path: pathlib.Path = args.filename
    if not path.is_file():
        sys.stderr.write(f"textclf train: no such file: {path}\n")
        return 2
    name = _run_name(path)
    run_dir = localruns.runs_dir(args.runs_dir) / name
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / localruns.LOG, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    entrypoint.quiet_libraries()

    view = progressview.View(name, bar={"bar": True, "lines": False}.get(args.progress))
    screen: progress.Reporter = (
        progress.JsonLines(sys.stdout) if args.progress == "json" else _OnView(view)
    )
    started = _now()
    last: list[Any] = []
    events = (run_dir / localruns.PROGRESS).open("w", encoding="utf-8")

    class Keep:
        def report(self, event: Any) -> None:
            last[:] = [event]
            events.write(json.dumps(event.to_wire()) + "\n")
            events.flush()

    localruns.write_status(run_dir, _status(started, codes.StatusCode.TRAINING))

    def load() -> specs.LoadedRun:
        document = _with_default_output(specs.read_document(path), run_dir)
        return specs.parse(document, default_name=name, base_dir=path.resolve().parent)

    with events:
        finished = entrypoint.execute(load, progress.Fanout([screen, Keep()]))
    view.close()
    result = finished.result
    latest = None
    if last:
        latest = trainingrun.Progress(**last[0].model_dump(exclude={"phase"}), updated_at=_now())
    if finished.outcome is not None:
        status = _status(
            started,
            codes.StatusCode.TRAINED,
            result,
            description=f"{codes.describe(codes.StatusCode.TRAINED)}: {result.message}",
            artifact=result.artifact,
            progress=latest,
        )
    else:
        detail = result.detail_code
        status = _status(
            started,
            codes.StatusCode.FAILED,
            detail_code=detail,
            description=f"{codes.describe(detail or codes.StatusCode.FAILED)}: {result.message}",
            progress=latest,
        )
    localruns.write_status(run_dir, status)
    out = sys.stdout
    # The same summary as `textclf status`, locally and for a run in a cluster.
    out.write("\n" + summary.render(name, status) + "\n")
    if status.description and status.code == codes.StatusCode.TRAINED:
        out.write(f"  {status.description}\n")  # the rest of the summary says why it failed
    out.write(f"  status: {run_dir / localruns.STATUS}\n")
    out.flush()
    return finished.exit_code
