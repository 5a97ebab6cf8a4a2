"""The run's own log, kept in its artifact as ``train.log``: after the training Pod is gone (a Job's
TTL, a lost node), ``textclf logs`` and ``training_status(..., training_logs=True)`` still show how the
version was trained. Whatever the process logs while the run trains is captured (the trainer's
records and the libraries' warnings), in the format of the Pod's own log.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

from textclf.api import channels

FILE = channels.ARTIFACT_LOG
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def captured() -> Iterator[io.StringIO]:
    """Everything logged inside the block, also written to the returned buffer; the trainer's own
    INFO records included even where the process's logging was left at Python's default (WARNING),
    as when a program calls the runner in-process."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    package = logging.getLogger(__package__)
    level = package.level
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        package.setLevel(level)
