"""``python -m textclf_trainer``: one run in the training container, from spec to exit code.

Reads the run file (argument, else ``TEXTCLF_RUN_SPEC``), trains, writes the result to the termination
message and exits with ``codes.ExitCode``: 0 trained; 10-14 user errors (``EXIT_CODE_FOR_DETAIL``:
10 invalid params, 11 no data, 12 insufficient data, 13 invalid-data tolerance exceeded, 14 data
unreadable; the Job fails at once); 20 infrastructure (storage/network IO, GPU out of memory; retried);
1 anything unexpected (an ``INTERNAL_ERROR`` result, traceback in the log; retried as infrastructure).
Progress goes to ``TEXTCLF_PROGRESS_URL`` when set, else as JSON lines to stdout; logs go to stderr.

``--templates`` prints the template catalogue as JSON (what the Helm chart's TrainingTemplates come from).
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys

from textclf.api import channels, codes
from textclf_trainer import catalogue, errors, progress, results, runner, specs

LOG = logging.getLogger("textclf_trainer")


def failure(detail: codes.DetailCode, message: str) -> channels.Result:
    return channels.Result(code=codes.StatusCode.FAILED, detail_code=detail, message=message[:1500])


def execute(
    spec_path: pathlib.Path | None, reporter: progress.Reporter
) -> tuple[channels.Result, int]:
    """Run and classify the outcome: (result, exit code). Never raises for a failed run."""
    try:
        loaded = specs.load(spec_path) if spec_path is not None else specs.load_from_env()
        outcome = runner.run(loaded, reporter=reporter)
        return outcome.result, int(codes.ExitCode.OK)
    except errors.TrainerError as exc:
        LOG.error("%s: %s", exc.detail, exc.message)
        return failure(exc.detail, exc.message), exc.exit_code
    except (OSError, MemoryError) as exc:
        LOG.exception("infrastructure error")
        return failure(codes.DetailCode.INTERNAL_ERROR, f"infrastructure error: {exc}"), int(
            codes.ExitCode.INFRASTRUCTURE
        )
    except Exception as exc:
        LOG.exception("internal error")
        return failure(codes.DetailCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"), 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m textclf_trainer", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "spec", nargs="?", type=pathlib.Path, help=f"run file (default: ${channels.RUN_SPEC_ENV})"
    )
    parser.add_argument("--templates", action="store_true", help="print the template catalogue")
    args = parser.parse_args(argv)
    if args.templates:
        print(json.dumps(catalogue.templates(), indent=2))
        return 0
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result, exit_code = execute(args.spec, progress.from_environment(sys.stdout))
    written = results.write(result)
    print(json.dumps({"result": result.to_wire()}), flush=True)
    if written is not None:
        LOG.info("result written to the termination message")
    return exit_code
