"""``textclf models create NAME --app APP | list --app APP | get NAME --app APP``."""

from __future__ import annotations

import argparse

from textclf.cli import backend

NAME = "models"
HELP = "Create, list or show an app's models (TextClassifierModels on a cluster)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("create", "list", "get"))
    parser.add_argument("name", nargs="?", help="create, get: the model")
    parser.add_argument("--app", required=True, help="the app (a namespace on a cluster)")
    parser.add_argument("--model-type", default="text-classifier")
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    app = backend.client(args).app(args.app)
    if args.action == "list":
        for model in app.list_models():
            print(model.id)
        return 0
    if not args.name:
        raise SystemExit(f"textclf models {args.action}: give the model's name")
    if args.action == "create":
        app.create_model(args.name, model_type_id=args.model_type)
        print(f"model {args.name} created in app {args.app}")
        return 0
    model = app.model(args.name)
    print(f"model {model.id} (app {args.app})")
    for version in model.list_versions():
        status = model.training_status(version)
        print(f"  {version}\t{status.code}")
    return 0
