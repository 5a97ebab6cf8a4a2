"""``textclf model-types``: the model types the installed templates train (``text-classifier``)."""

from __future__ import annotations

import argparse

from textclf.cli import backend

NAME = "model-types"
HELP = "List the trainable model types."


def register(parser: argparse.ArgumentParser) -> None:
    backend.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from textclf.sdk.client import trainable_model_types  # noqa: PLC0415

    for model_type in trainable_model_types(backend.client(args).backend):
        print(model_type)
    return 0
