"""``textclf templates list | show NAME [--schema]`` and ``textclf model-types``: what can be trained.

``show`` prints the template's defaults as params YAML (``-o``: also to a file); ``--schema`` the JSON
Schema its params are checked against, each param with its type, range and description."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

import yaml

from textclf.cli import backend

if TYPE_CHECKING:
    from textclf.sdk.client import Client

NAME = "templates"
HELP = "List the training templates, or show one's defaults (-o FILE) or params schema (--schema)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "show", "model-types"))
    parser.add_argument("name", nargs="?", help="show: the template")
    parser.add_argument("-o", "--output", help="show: also write the defaults to this YAML file")
    parser.add_argument("--schema", action="store_true", help="show: the params' JSON Schema")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    client = backend.client(args)
    if args.action == "model-types":
        from textclf.cli import modeltypes  # noqa: PLC0415

        return modeltypes.run(args)
    if args.action == "list":
        print("\n".join(client.backend.templates()))
        return 0
    if not args.name:
        raise SystemExit("textclf templates show: give the template's name")
    try:
        if args.schema:
            print(json.dumps(client.backend.template_schema(args.name), indent=2))
        else:
            show(client, args.name, args.output)
    except ValueError as err:  # an unknown template: the known ones named
        sys.stderr.write(f"textclf templates: {err}\n")
        return 2
    return 0


def show(client: Client, name: str, output: str | None) -> None:
    """Print a template's defaults as params YAML (what ``model.get_params`` returns), and write
    them to ``output`` when given: the file ``train -f`` and ``update_params`` take."""
    defaults = {"template": name, **client.backend.template_defaults(name)}
    text = yaml.safe_dump(defaults, sort_keys=False)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
    print(text, end="")
