"""``textclf``: dispatches to subcommand modules.

Each module listed in ``COMMANDS`` exposes ``NAME``, ``HELP``, ``register(parser)`` (adds its
arguments) and ``run(args) -> int`` (the exit code). To add a command,
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
    "textclf.cli.apps",
    "textclf.cli.datasets",
    "textclf.cli.models",
    "textclf.cli.templates",
    "textclf.cli.params",
    "textclf.cli.modeltypes",
    "textclf.cli.logs",
    "textclf.cli.compare",
)
"""Command modules, in the order ``textclf --help`` lists them."""


def build_parser(
    modules: Sequence[ModuleType],
) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The ``textclf`` parser and each command's own parser, by command name."""
    parser = argparse.ArgumentParser(
        prog="textclf", description="Train, evaluate and serve text classifiers."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    subparsers: dict[str, argparse.ArgumentParser] = {}
    for module in modules:
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.register(sub)
        sub.set_defaults(handler=module.run)
        subparsers[module.NAME] = sub
    return parser, subparsers


def parse(argv: Sequence[str], modules: Sequence[ModuleType]) -> argparse.Namespace:
    """Options may come anywhere, also between and after positionals (``predict M --json T1 T2``):
    the command's own parser reads its arguments intermixed, as users of other CLIs expect."""
    parser, subparsers = build_parser(modules)
    command, _ = parser.parse_known_args(argv)  # the command's name, or --help / a usage error
    rest = list(argv)[list(argv).index(command.command) + 1 :]
    args = subparsers[command.command].parse_intermixed_args(rest)
    args.command = command.command
    return args


def main(argv: Sequence[str] | None = None) -> int:
    modules = [importlib.import_module(name) for name in COMMANDS]
    args = parse(sys.argv[1:] if argv is None else argv, modules)
    try:
        code: int = args.handler(args)
    except LookupError as err:  # an app, dataset, model, version or evaluation that is not there
        from textclf.sdk.local import NotFound  # noqa: PLC0415

        if not isinstance(err, NotFound):
            raise
        sys.stderr.write(f"textclf {args.command}: {err}\n")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
