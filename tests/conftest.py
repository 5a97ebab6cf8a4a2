"""Session fixtures shared by every test folder: the real control plane and a client for it.

The control plane (etcd, kube-apiserver, kube-controller-manager built from the Go modules by
``hack/controlplane``) starts once per session, with ``crds/`` applied the way a user applies them.
A test that asks for it fails, never skips, when it cannot start: a missing control plane is a
broken setup, not a reason to test less.
"""

from __future__ import annotations

import os

# OpenMP threads (torch's) that wait for work sleep instead of spinning. The two lanes train side
# by side on two cores, and spinning threads burn the core the other lane needs: two concurrent
# fine-tunes took 31 s each with the default policy and 16 s with this one (one alone: 10.5 s vs
# 11.5 s). Set before anything loads torch; the trainer subprocesses inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import pathlib
import uuid
from collections.abc import Iterator

import kubernetes
import pytest

import controlplane

REPO = pathlib.Path(__file__).resolve().parents[1]

pytest_plugins = ("tests.operator.fixtures", "tests.trainer.models")
"""The real operator and a restricted namespace, for the operator tests and any other that needs them
(``textclf predict`` against a served model); the trained models that several folders read."""

LANES = {
    "trainer": "training",
    "serving": "training",
    "api": "training",
    "sdk": "cluster",
    "operator": "cluster",
    "cli": "cluster",
    "install": "cluster",
    "e2e": "cluster",
}
"""Which pytest-xdist worker runs each test folder under ``-n 2 --dist loadgroup`` (``make test``):
one lane trains models (CPU), the other mostly waits on API servers and Pods, so the two overlap
well on two cores; each lane keeps its folders' session fixtures (trained models, the control
plane, the node) to itself. A folder missing here fails the collection."""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.relative_to(REPO / "tests").parts[0]
        if folder not in LANES:
            raise pytest.UsageError(f"tests/{folder} has no lane: add it to LANES in {__file__}")
        item.add_marker(pytest.mark.xdist_group(LANES[folder]))


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[controlplane.ControlPlane]:
    """The running control plane with textclf's CRDs established."""
    with controlplane.running(tmp_path_factory.mktemp("controlplane")) as plane:
        applied = plane.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        assert applied.returncode == 0, applied.stderr
        waited = plane.kubectl(
            "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s"
        )
        assert waited.returncode == 0, waited.stderr
        yield plane


@pytest.fixture(scope="session")
def api_client(control_plane: controlplane.ControlPlane) -> Iterator[kubernetes.client.ApiClient]:
    """A Kubernetes client authenticated as the control plane's admin."""
    client = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(control_plane.kubeconfig)
    )
    yield client
    client.close()


@pytest.fixture
def namespace(api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace(kubernetes.client.V1Namespace(metadata={"name": name}))
    yield name
    core.delete_namespace(name)
