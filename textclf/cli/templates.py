"""``textclf templates list | show NAME`` and ``textclf model-types``: what can be trained."""

from __future__ import annotations

import argparse

import yaml

from textclf.cli import backend

NAME = "templates"
HELP = "List the training templates, or show one's defaults (-o FILE: as params YAML)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "show", "model-types"))
    parser.add_argument("name", nargs="?", help="show: the template")
    parser.add_argument("-o", "--output", help="show: also write the defaults to this YAML file")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    client = backend.client(args)
    if args.action == "model-types":
        from textclf.api import trainingtemplate  # noqa: PLC0415

        print("\n".join(trainingtemplate.MODEL_TYPES))
        return 0
    if args.action == "list":
        print("\n".join(client.backend.templates()))
        return 0
    if not args.name:
        raise SystemExit("textclf templates show: give the template's name")
    defaults = {"template": args.name, **client.backend.template_defaults(args.name)}
    text = yaml.safe_dump(defaults, sort_keys=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    print(text, end="")
    return 0
