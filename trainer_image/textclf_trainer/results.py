"""Writes the run's final ``channels.Result`` where the operator reads it: the termination message file.

The path is ``TEXTCLF_TERMINATION_MESSAGE_PATH`` when set, else ``/dev/termination-log`` when it exists
and is writable (in a Pod), else nowhere (locally the CLI keeps its own status.json). The text stays under
the kubelet's 4 KiB limit (``Result.to_termination_message``).
"""

from __future__ import annotations

import logging
import os
import pathlib

from textclf.api import channels

LOG = logging.getLogger(__name__)


def termination_path() -> pathlib.Path | None:
    value = os.environ.get(channels.TERMINATION_MESSAGE_ENV)
    if value:
        return pathlib.Path(value)
    default = pathlib.Path(channels.TERMINATION_MESSAGE_PATH)
    if default.exists() and os.access(default, os.W_OK):
        return default
    return None


def write(result: channels.Result | channels.EvaluationResult) -> pathlib.Path | None:
    """Write the termination message; returns where, or None when there is no such file here."""
    path = termination_path()
    if path is None:
        return None
    try:
        path.write_text(result.to_termination_message(), encoding="utf-8")
    except OSError as exc:
        LOG.error("could not write the termination message to %s: %s", path, exc)
        return None
    return path
