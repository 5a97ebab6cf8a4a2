"""``textclf logs VERSION --app APP [-f] [--save FILE]``: a version's training log.

On a cluster: the training Pod's log while it can be read (``-f`` streams it until the container
ends), else the log the trainer kept in the artifact (when this machine can read the store); on the
embedded backend (``--local``), the run's log file (``-f`` follows it until the run finishes).
Ctrl-C stops following, not the run.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from textclf.cli import backend

NAME = "logs"
HELP = "Print a version's training log (-f: follow it; --save FILE: keep it)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("version", help="the version (TrainingRun) name")
    parser.add_argument("--app", required=True, help="the app (a namespace on a cluster)")
    parser.add_argument("-f", "--follow", action="store_true", help="follow until it ends")
    parser.add_argument("--save", type=pathlib.Path, help="also write the log to this file")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from textclf.sdk import local  # noqa: PLC0415

    client = backend.client(args)
    kept: list[str] = []
    try:
        for chunk in client.backend.log(args.app, args.version, follow=args.follow):
            kept.append(chunk)
            sys.stdout.write(chunk)
            sys.stdout.flush()
    except local.NotFound as err:
        sys.stderr.write(f"textclf logs: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\nstopped following; the run goes on\n")
    if args.save is not None:
        args.save.write_text("".join(kept))
        sys.stderr.write(f"log saved to {args.save}\n")
    return 0
