"""``textclf apps create NAME | list``: apps (a namespace on a cluster, a folder with ``--local``)."""

from __future__ import annotations

import argparse

from textclf.cli import backend

NAME = "apps"
HELP = "Create or list apps (a labelled namespace; --local: a folder)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("create", "list"))
    parser.add_argument("name", nargs="?", help="the app to create")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    client = backend.client(args)
    if args.action == "create":
        if not args.name:
            raise SystemExit("textclf apps create: give the app's name")
        client.create_app(args.name)
        print(f"app {args.name} created")
        return 0
    for app in client.list_apps():
        print(app.id)
    return 0
