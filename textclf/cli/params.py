"""``textclf params TEMPLATE [-o params.yaml]``: a template's params with their defaults, as YAML.

The hosted platform's ``model.get_params(template=..., save_to=...)`` from the shell: edit the file,
then train with it (``model.train(yaml_file=...)`` or a run's ``spec.params``).
"""

from __future__ import annotations

import argparse
import sys

import yaml

from textclf.cli import backend, templates

NAME = "params"
HELP = "Print a template's params with their defaults (-o FILE: also write them)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("template", help="the training template, e.g. hf-advanced")
    parser.add_argument("-o", "--output", help="also write the params to this YAML file")
    parser.add_argument("--app", help="with --model: that model's params over the defaults")
    parser.add_argument("--model", help="the model whose params to show (needs --app)")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    client = backend.client(args)
    if args.model and not args.app:
        raise SystemExit("textclf params --model: give --app too")
    try:
        if args.model:
            model = client.app(args.app).model(args.model)
            params = model.get_params(args.template, args.output)
            print(yaml.safe_dump(params, sort_keys=False), end="")
        else:
            templates.show(client, args.template, args.output)
    except ValueError as err:  # an unknown template: the known ones named
        sys.stderr.write(f"textclf params: {err}\n")
        return 2
    return 0
