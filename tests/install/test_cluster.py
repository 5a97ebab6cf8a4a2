"""Everything the chart, deploy/ and the overlay render is accepted by the real API server (server-side
dry run, strict field validation), the operator Pod passes the `restricted` Pod Security admission, and
the Argo CD health checks read real objects the API server stored.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import kubernetes
import pytest
import yaml

import controlplane
from tests.install import charts, test_manifests

pytestmark = pytest.mark.cluster

EXTERNAL = ("monitoring.coreos.com/",)
"""Kinds whose CRDs this control plane does not have (the Prometheus Operator's)."""


def _dry_run(plane: controlplane.ControlPlane, objs: list[dict[str, Any]], where: str) -> None:
    stream = [o for o in objs if not o["apiVersion"].startswith(EXTERNAL)]
    done = plane.kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "--field-manager=textclf-install-test",
        "-f",
        "-",
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": stream}),
    )
    assert done.returncode == 0, f"{where}: {done.stderr}"


@pytest.mark.parametrize(
    "values_file", sorted((charts.CHART / "ci").glob("*-values.yaml")), ids=lambda p: p.name
)
def test_chart_objects_validate(
    control_plane: controlplane.ControlPlane, namespace: str, values_file: Any
) -> None:
    values = yaml.safe_load(values_file.read_text()) or {}
    if values.get("watchNamespaces"):
        values["watchNamespaces"] = [namespace]  # Roles need namespaces that exist
    _dry_run(control_plane, charts.render(values, namespace=namespace), values_file.name)


def test_deploy_and_overlay_objects_validate(
    control_plane: controlplane.ControlPlane, api_client: kubernetes.client.ApiClient
) -> None:
    deploy = [
        obj
        for name in ("crds.yaml", "textclf-operator.yaml")
        for _, obj in charts.documents((charts.DEPLOY / name).read_text())
    ]
    overlay = test_manifests.kustomize(str(test_manifests.OVERLAY))
    # A dry run creates no Namespace, and objects in a missing one are refused: make them for real.
    core = kubernetes.client.CoreV1Api(api_client)
    made = [o["metadata"]["name"] for o in deploy + overlay if o["kind"] == "Namespace"]
    for name in made:
        core.create_namespace(kubernetes.client.V1Namespace(metadata={"name": name}))
    try:
        _dry_run(control_plane, deploy, "deploy/")
        _dry_run(control_plane, overlay, "examples/gitops/overlays/production")
    finally:
        for name in made:
            core.delete_namespace(name)


def test_operator_pods_pass_restricted_pod_security(
    control_plane: controlplane.ControlPlane, api_client: kubernetes.client.ApiClient
) -> None:
    core = kubernetes.client.CoreV1Api(api_client)
    name = f"psa-{uuid.uuid4().hex[:8]}"
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    core.create_namespace(kubernetes.client.V1Namespace(metadata={"name": name, "labels": labels}))
    try:
        objs = charts.render(namespace=name)
        template = next(o for o in objs if o["kind"] == "Deployment")["spec"]["template"]
        pods = [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {**template["metadata"], "name": "operator"},
                "spec": template["spec"],
            },
            next(o for o in objs if o["kind"] == "Pod"),  # the helm test Pod
        ]
        account = template["spec"]["serviceAccountName"]
        core.create_namespaced_service_account(
            name, kubernetes.client.V1ServiceAccount(metadata={"name": account})
        )
        for pod in pods:
            done = control_plane.kubectl(
                "create", "--dry-run=server", "-n", name, "-f", "-", stdin=json.dumps(pod)
            )
            assert done.returncode == 0, done.stderr
            assert "violate" not in done.stderr, done.stderr
        # The check is real: a root Pod is refused in the same namespace.
        bad = json.loads(json.dumps(pods[0]))
        bad["spec"]["securityContext"]["runAsNonRoot"] = False
        refused = control_plane.kubectl(
            "create", "--dry-run=server", "-n", name, "-f", "-", stdin=json.dumps(bad)
        )
        assert refused.returncode != 0
        assert "restricted" in refused.stderr
    finally:
        core.delete_namespace(name)


def test_health_checks_on_stored_objects(
    control_plane: controlplane.ControlPlane, namespace: str
) -> None:
    """The example model and run, as the operator would leave them, read back from the API server."""
    examples = charts.REPO / "examples" / "kubernetes"
    model = yaml.safe_load((examples / "reviews-model.yaml").read_text())
    run = yaml.safe_load((examples / "reviews-run.yaml").read_text())
    for obj in (model, run):
        obj["metadata"].pop("namespace", None)
        done = control_plane.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(obj))
        assert done.returncode == 0, done.stderr

    def stored(kind: str, name: str, status: dict[str, Any] | None) -> dict[str, Any]:
        if status is not None:
            patched = control_plane.kubectl(
                "patch", kind, name, "-n", namespace, "--subresource=status", "--type=merge",
                "-p", json.dumps({"status": status}),
            )  # fmt: skip
            assert patched.returncode == 0, patched.stderr
        got = control_plane.kubectl("get", kind, name, "-n", namespace, "-o", "json")
        assert got.returncode == 0, got.stderr
        return dict(json.loads(got.stdout))

    def cond(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "observedGeneration": 1,
        }

    run_name, model_name = run["metadata"]["name"], model["metadata"]["name"]
    health = test_manifests.health
    assert health("TrainingRun", stored("trainingrun", run_name, None))["status"] == "Progressing"
    failed = stored(
        "trainingrun",
        run_name,
        {
            "observedGeneration": 1,
            "code": "MODEL-TRAINING-FAILED",
            "detailCode": "MODEL-TRAINING-NO-DATA",
            "description": "The training data has no rows.",
            "conditions": [cond("Failed", "True", "NoData", "The training data has no rows.")],
        },
    )
    hs = health("TrainingRun", failed)
    assert hs["status"] == "Degraded"
    assert "MODEL-TRAINING-NO-DATA" in hs["message"]
    trained = stored(
        "trainingrun",
        run_name,
        {
            "code": "MODEL-TRAINED",
            "detailCode": None,
            "description": "Trained.",
            "conditions": [
                cond("Succeeded", "True", "Trained", "Trained."),
                cond("Failed", "False", "Trained", "Trained."),
            ],
        },
    )
    assert health("TrainingRun", trained)["status"] == "Healthy"
    model_obj = stored("textclassifiermodel", model_name, None)
    assert health("TextClassifierModel", model_obj)["status"] == "Progressing"
    ready = stored(
        "textclassifiermodel",
        model_name,
        {"observedGeneration": 1, "conditions": [cond("Ready", "True", "Trained", run_name)]},
    )
    assert health("TextClassifierModel", ready)["status"] == "Healthy"
