"""The real one-node cluster of ``hack/cluster``, once per session, for the end-to-end suite.

The images are built from the Dockerfiles with buildah (cached), the node starts with containerd,
runc, the CNI bridge, kube-proxy and CoreDNS, and after the last test it stops and must leave
nothing behind on the machine. Nothing here skips: without root or the Debian packages that
`.ci/run` installs, the fixture fails with what is missing. Any failing test prints the Pods, the
events and the logs of every namespace.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator

import pytest

import cluster
import hoststate
import images


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cluster.Cluster]:
    """The running node, nothing of textclf installed yet; stopped after this folder's tests."""
    archives = cluster.build_images()
    workdir = tmp_path_factory.mktemp("node")
    kernel = hoststate.sysctls()
    try:
        with cluster.running(workdir, archives) as running:
            yield running
            _leave_a_pod_running(running)
    finally:
        left = hoststate.leftovers(workdir)
        changed = {
            k: (v, hoststate.sysctls()[k]) for k, v in kernel.items() if hoststate.sysctls()[k] != v
        }
        assert not left, "the cluster left these behind:\n" + "\n".join(left)
        assert not changed, f"kernel settings not restored (before, after): {changed}"


def _leave_a_pod_running(node: cluster.Cluster) -> None:
    """A Pod still running at teardown, so that stopping the node must kill and clean a real one."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "still-running", "namespace": "default"},
        "spec": {"containers": [{"name": "pause", "image": images.PAUSE}]},
    }
    applied = node.kubectl("apply", "-f", "-", stdin=json.dumps(pod))
    assert applied.returncode == 0, applied.stderr
    waited = node.kubectl("wait", "--for=condition=Ready", "pod/still-running", "--timeout=120s")
    assert waited.returncode == 0, waited.stderr


_NODE: list[cluster.Cluster] = []


@pytest.fixture(autouse=True)
def _remember(request: pytest.FixtureRequest) -> None:
    if "node" in request.fixturenames:
        _NODE[:] = [request.getfixturevalue("node")]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and call.when == "call" and _NODE:
        report.sections.append(("the cluster at the failure", _NODE[0].describe()))
    return report
