"""The SDK client a resource command works with: the cluster of the kubeconfig (``--context``), or
with ``--local`` the embedded backend under ``--home`` (default ``$TEXTCLF_HOME`` or ~/.textclf).
The commands that take these (apps, datasets, models, templates, model-types) print the same either
way."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textclf.sdk.client import Client


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--local", action="store_true", help="the embedded backend, no cluster")
    parser.add_argument("--home", help="--local: its folder (default $TEXTCLF_HOME or ~/.textclf)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")


def client(args: argparse.Namespace) -> Client:
    from textclf.sdk.client import Client  # noqa: PLC0415

    if args.local:
        return Client(local=True, home=args.home)
    return Client(context=args.context)
