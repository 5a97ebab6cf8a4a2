"""A new user's installs, each on a fresh, empty control plane: `helm install`, `upgrade` (to the
namespaced mode, a new trainer image) and `uninstall`, checked through the API; the plain manifests of
deploy/ applied CRDs first; the GitOps overlay applied as Argo CD would. No node runs here, so nothing
waits for the operator Pod (`--wait` would time out): the objects themselves are checked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import controlplane
from tests.install import charts, test_manifests
from tests.install.conftest import helm_on

pytestmark = pytest.mark.cluster

CHART = str(charts.CHART)
NS = "textclf-system"


def _get(plane: controlplane.ControlPlane, *args: str) -> dict[str, Any]:
    done = plane.kubectl("get", *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _ours(plane: controlplane.ControlPlane, release: str) -> set[str]:
    """kind/name (namespace) of every object labelled with the release, across the kinds we make."""
    kinds = (
        "customresourcedefinitions,clusterroles,clusterrolebindings,roles,rolebindings,"
        "serviceaccounts,services,deployments,replicasets,networkpolicies,pods,configmaps,secrets"
    )
    if plane.kubectl("get", "crd", "trainingtemplates.textclf.io").returncode == 0:
        kinds += ",trainingtemplates"
    done = plane.kubectl(
        "get", kinds, "-A", "-l", f"app.kubernetes.io/instance={release}", "-o", "json"
    )
    if done.returncode != 0 and "could not find the requested resource" in done.stderr:
        # the TrainingTemplate CRD went away between the check and the list: list without it
        done = plane.kubectl(
            "get", kinds.removesuffix(",trainingtemplates"), "-A",
            "-l", f"app.kubernetes.io/instance={release}", "-o", "json",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {
        f"{o['kind']}/{o['metadata']['name']}"
        + (f" ({o['metadata']['namespace']})" if "namespace" in o["metadata"] else "")
        for o in json.loads(done.stdout)["items"]
    }


def _wait_crds(plane: controlplane.ControlPlane) -> None:
    waited = plane.kubectl(
        "wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=textclf",
        "--timeout=60s",
    )  # fmt: skip
    assert waited.returncode == 0, waited.stderr


def test_helm_install_upgrade_uninstall(fresh_plane: controlplane.ControlPlane) -> None:
    plane, release = fresh_plane, "textclf-operator"
    installed = helm_on(plane, "install", release, CHART, "-n", NS, "--create-namespace")
    assert "textclf-operator 0.1.0 is installed" in installed.stdout  # NOTES.txt
    _wait_crds(plane)
    templates = _get(plane, "trainingtemplates")["items"]
    assert {t["metadata"]["name"] for t in templates} == {
        "hf-advanced",
        "hf-lora",
        "embedding-logreg",
    }
    uids = {t["metadata"]["uid"] for t in templates}
    deployment = _get(plane, "deployment", release, "-n", NS)
    assert "--all-namespaces" in deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert _get(plane, "clusterrole", f"{release}-view")["rules"]
    tested = helm_on(plane, "test", release, "-n", NS, "--timeout=5s", check=False)
    assert tested.returncode != 0  # no node runs the test Pod here; it is created, though
    assert _get(plane, "pod", f"{release}-test-metrics", "-n", NS)["spec"]["containers"]
    # A failed test Pod stays for its logs (delete policy hook-succeeded); clean it up as a user would.
    plane.kubectl("delete", "pod", f"{release}-test-metrics", "-n", NS, "--wait=false")
    plane.kubectl(
        "patch",
        "pod",
        f"{release}-test-metrics",
        "-n",
        NS,
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )

    # Upgrade: one watched namespace, a new trainer image; the templates change in place.
    plane.kubectl("create", "namespace", "team-a")
    helm_on(
        plane, "upgrade", release, CHART, "-n", NS,
        "--set", "watchNamespaces={team-a}", "--set", "trainingTemplates.image.tag=0.2.0",
    )  # fmt: skip
    templates = _get(plane, "trainingtemplates")["items"]
    assert {t["metadata"]["uid"] for t in templates} == uids
    assert {t["spec"]["image"] for t in templates} == {
        "registry.example.com/textclf/textclf-trainer:0.2.0"
    }
    args = _get(plane, "deployment", release, "-n", NS)["spec"]["template"]["spec"]["containers"][
        0
    ]["args"]
    assert "--namespace=team-a" in args
    assert "--all-namespaces" not in args
    assert _get(plane, "role", release, "-n", "team-a")["rules"]
    cluster_rules = _get(plane, "clusterrole", release)["rules"]
    assert {r for rule in cluster_rules for r in rule["resources"]} == {
        "trainingtemplates", "trainingtemplates/status", "tokenreviews", "customresourcedefinitions",
    }  # fmt: skip

    # Uninstall: the CRDs stay (crds.keep), and with them the templates (hooks); nothing else.
    helm_on(plane, "uninstall", release, "-n", NS)
    left = _ours(plane, release)
    assert left == {
        "CustomResourceDefinition/textclassifiermodels.textclf.io",
        "CustomResourceDefinition/trainingruns.textclf.io",
        "CustomResourceDefinition/modelevaluations.textclf.io",
        "CustomResourceDefinition/trainingtemplates.textclf.io",
        "TrainingTemplate/hf-advanced",
        "TrainingTemplate/hf-lora",
        "TrainingTemplate/embedding-logreg",
    }, left

    # A second install adopts what was kept; with crds.keep=false an uninstall removes it all.
    helm_on(plane, "install", release, CHART, "-n", NS, "--set", "crds.keep=false")
    # A CRD is gone only once the API server has deleted its objects: wait, as a user's script would.
    # Its cleanup finalizer runs in a rate-limited queue: on a loaded machine a CRD the install just
    # re-applied stayed Terminating past 60 s (measured in CI), so the wait is generous.
    helm_on(plane, "uninstall", release, "-n", NS, "--wait", "--timeout=300s")
    assert _ours(plane, release) == set()
    gone = plane.kubectl("get", "crd", "trainingruns.textclf.io")
    assert gone.returncode != 0


def test_plain_manifests(fresh_plane: controlplane.ControlPlane) -> None:
    plane = fresh_plane
    applied = plane.kubectl("apply", "--server-side", "-f", str(charts.DEPLOY / "crds.yaml"))
    assert applied.returncode == 0, applied.stderr
    _wait_crds(plane)
    applied = plane.kubectl(
        "apply", "--server-side", "-f", str(charts.DEPLOY / "textclf-operator.yaml")
    )
    assert applied.returncode == 0, applied.stderr
    namespace = _get(plane, "namespace", NS)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert len(_get(plane, "trainingtemplates")["items"]) == 3
    assert _get(plane, "deployment", "textclf-operator", "-n", NS)["spec"]["replicas"] == 1
    # Re-applying is a no-op, and the same files delete it again (CRDs last).
    again = plane.kubectl(
        "apply", "--server-side", "-f", str(charts.DEPLOY / "crds.yaml"),
        "-f", str(charts.DEPLOY / "textclf-operator.yaml"),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    deleted = plane.kubectl("delete", "-f", str(charts.DEPLOY / "textclf-operator.yaml"))
    assert deleted.returncode == 0, deleted.stderr


def test_gitops_overlay_applies_crds_first(fresh_plane: controlplane.ControlPlane) -> None:
    """What Argo CD does with the overlay: CRDs first, then the rest, server-side."""
    plane = fresh_plane
    objs = test_manifests.kustomize(str(test_manifests.OVERLAY))
    crds = [o for o in objs if o["kind"] == "CustomResourceDefinition"]
    rest = [o for o in objs if o["kind"] != "CustomResourceDefinition"]
    for batch in (crds, rest):
        applied = plane.kubectl(
            "apply", "--server-side", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": batch}),
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        if batch is crds:
            _wait_crds(plane)
    deployment = _get(plane, "deployment", "textclf-operator", "-n", "textclf-prod")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/prod/textclf-operator:0.1.0"
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["TEXTCLF_PROGRESS_URL"].startswith("https://textclf-operator.$(POD_NAMESPACE).svc")
    images = {t["spec"]["image"] for t in _get(plane, "trainingtemplates")["items"]}
    assert images == {"registry.example.com/prod/textclf-trainer:0.1.0"}
