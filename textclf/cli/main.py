"""``textclf``: dispatches to subcommand modules.

Each module listed in ``COMMANDS`` exposes ``NAME``, ``HELP``, ``register(parser)`` (adds its
arguments) and ``run(args) -> int`` (the exit code). To add a command (``get``, ``logs``, ``compare``),
write such a module and list it here; nothing else changes. Modules are imported when ``main`` runs,
so each must keep heavy imports (torch, kubernetes) inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

COMMANDS: tuple[str, ...] = (
    "textclf.cli.train",
    "textclf.cli.predict",
    "textclf.cli.serve",
    "textclf.cli.evaluate",
    "textclf.cli.status",
)
"""Command modules, in the order ``textclf --help`` lists them."""


def build_parser(modules: Sequence[ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="textclf", description="Train, evaluate and serve text classifiers."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in modules:
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.register(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    modules = [importlib.import_module(name) for name in COMMANDS]
    args = build_parser(modules).parse_args(argv)
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
