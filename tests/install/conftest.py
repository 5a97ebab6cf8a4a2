"""Fixtures of the install tests: a control plane of a test's own, for installs that must start from a
cluster without textclf (the shared ``control_plane`` already has the CRDs, applied by kubectl).
"""

from __future__ import annotations

import pathlib
import subprocess
from collections.abc import Iterator

import pytest

import controlplane
from tests.install import charts


@pytest.fixture
def fresh_plane(tmp_path: pathlib.Path) -> Iterator[controlplane.ControlPlane]:
    """A new, empty control plane (seconds to start): a new user's cluster."""
    with controlplane.running(tmp_path / "plane") as plane:
        yield plane


def helm_on(
    plane: controlplane.ControlPlane, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run helm against ``plane``; with ``check``, fail the test with helm's message."""
    done = subprocess.run(
        [str(charts.helm()), f"--kubeconfig={plane.kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"helm {' '.join(args)}:\n{done.stderr}"
    return done
