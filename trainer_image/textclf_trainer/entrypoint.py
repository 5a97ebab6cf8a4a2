"""``python -m textclf_trainer``: one run in the training container, from spec to exit code.

Reads the run file (argument, else ``TEXTCLF_RUN_SPEC``), trains, writes the result to the termination
message and exits with ``codes.ExitCode``: 0 trained; 10-15 user errors (``EXIT_CODE_FOR_DETAIL``:
10 invalid params, 11 no data, 12 insufficient data, 13 invalid-data tolerance exceeded, 14 data
unreadable, 15 data leakage with ``fail_on_leakage``, 16 out of memory in training (``memory``); the Job
fails at once); 20 infrastructure (storage/network IO; retried);
1 anything unexpected (an ``INTERNAL_ERROR`` result, traceback in the log; retried as infrastructure).
Progress goes to ``TEXTCLF_PROGRESS_URL`` when set, else as JSON lines to stdout; logs go to stderr.

With ``TEXTCLF_NPROC_PER_NODE`` above 1 the run trains on that many ranks (``distributed``).

``--templates`` prints the template catalogue as JSON (what the Helm chart's TrainingTemplates come from).
``serve ARTIFACT --name MODEL`` runs the predictor server instead (``server``); ``evaluate [REQUEST]``
evaluates a trained artifact on a dataset, for a ModelEvaluation (``evaluator``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import pathlib
import sys
from collections.abc import Callable
from typing import cast

import transformers

from textclf.api import channels, codes
from textclf_trainer import catalogue, distributed, errors, progress, results, runner, specs

LOG = logging.getLogger("textclf_trainer")


def failure(detail: codes.DetailCode, message: str) -> channels.Result:
    return channels.Result(code=codes.StatusCode.FAILED, detail_code=detail, message=message[:1500])


@dataclasses.dataclass(frozen=True)
class Finished:
    """How a run ended: the result for the termination message, the exit code, and the outcome
    when it trained."""

    result: channels.Result
    exit_code: int
    outcome: runner.Outcome | None = None


def execute(
    load: Callable[[], specs.LoadedRun],
    reporter: progress.Reporter,
    work_dir: pathlib.Path | None = None,
) -> Finished:
    """Load and run, classifying every failure; never raises for a failed run."""
    try:
        outcome = runner.run(load(), reporter=reporter, work_dir=work_dir)
        return Finished(outcome.result, int(codes.ExitCode.OK), outcome)
    except errors.TrainerError as exc:
        LOG.error("%s: %s", exc.detail, exc.message)
        return Finished(failure(exc.detail, exc.message), exc.exit_code)
    except (OSError, MemoryError) as exc:
        LOG.exception("infrastructure error")
        message = f"infrastructure error: {type(exc).__name__}: {exc}"
        return Finished(
            failure(codes.DetailCode.INTERNAL_ERROR, message), int(codes.ExitCode.INFRASTRUCTURE)
        )
    except Exception as exc:
        LOG.exception("internal error")
        message = f"{type(exc).__name__}: {exc}"
        return Finished(failure(codes.DetailCode.INTERNAL_ERROR, message), 1)


def train_rank(load: Callable[[], specs.LoadedRun]) -> int:
    """A non-zero rank: trains beside rank 0 and leaves the reporting to it; the exit code still
    says what failed (the launcher reports rank 0's)."""
    try:
        runner.run_rank(load())
    except errors.TrainerError as exc:
        LOG.error("rank %d: %s: %s", distributed.rank(), exc.detail, exc.message)
        return exc.exit_code
    return int(codes.ExitCode.OK)


def launch_ranks(argv: list[str], nproc: int) -> int:
    """Run the ranks; when one failed before rank 0 wrote the result (the launcher stops the rest),
    this process, the container's own, writes it from the exit code, so a user error still shows
    its detail code."""
    code = distributed.launch(argv, nproc)
    path = results.termination_path()
    detail = codes.DETAIL_FOR_EXIT_CODE.get(code)
    if detail is not None and path is not None and not (path.exists() and path.stat().st_size):
        results.write(
            failure(detail, f"{codes.describe(detail)}; a rank failed first, see the Pod's log")
        )
    return code


def quiet_libraries() -> None:
    """No per-file progress bars from transformers in logs (our own progress is reported)."""
    hf_logging = transformers.utils.logging
    cast(Callable[[], None], hf_logging.disable_progress_bar)()  # untyped in transformers
    cast(Callable[[], None], hf_logging.set_verbosity_warning)()


def setup_logging() -> None:
    """Logs to stderr (stdout carries progress and the result line), libraries kept quiet."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_libraries()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:
        from textclf_trainer import server  # noqa: PLC0415  (aiohttp: only to serve)

        return server.main(argv[1:])
    if argv[:1] == ["evaluate"]:
        from textclf_trainer import evaluator  # noqa: PLC0415

        setup_logging()
        return evaluator.main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m textclf_trainer", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "spec", nargs="?", type=pathlib.Path, help=f"run file (default: ${channels.RUN_SPEC_ENV})"
    )
    parser.add_argument("--templates", action="store_true", help="print the template catalogue")
    parser.add_argument(
        "--template",
        choices=catalogue.names(),
        help="the built-in recipe to run (default: the run's spec.template); lets a platform "
        "team's TrainingTemplate run a built-in recipe under its own name and defaults",
    )
    args = parser.parse_args(argv)
    if args.templates:
        print(json.dumps(catalogue.templates(), indent=2))
        return 0
    setup_logging()
    nproc = distributed.requested()
    if nproc > 1:
        LOG.info("training on %d ranks (%s=%d)", nproc, distributed.NPROC_ENV, nproc)
        return launch_ranks(argv, nproc)
    spec_path: pathlib.Path | None = args.spec

    def load() -> specs.LoadedRun:
        loaded = specs.load(spec_path) if spec_path is not None else specs.load_from_env()
        if args.template:
            recipe = loaded.spec.model_copy(update={"template": args.template})
            loaded = dataclasses.replace(loaded, spec=recipe)
        return loaded

    if not distributed.is_main():
        return train_rank(load)
    finished = execute(load, progress.from_environment(sys.stdout))
    written = results.write(finished.result)
    print(json.dumps({"result": finished.result.to_wire()}), flush=True)
    if written is not None:
        LOG.info("result written to the termination message %s", written)
    return finished.exit_code
