"""``textclf`` typed at a shell on the embedded backend under ``home``, from ``home``'s parent."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys


def textclf(home: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "textclf.cli.main", *args, "--local", "--home", str(home)],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
        cwd=home.parent,
        timeout=900,
    )


def ok(home: pathlib.Path, *args: str) -> str:
    """What the command printed; it must have succeeded."""
    done = textclf(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout
