"""deploy/ is the chart rendered (drift fails), the GitOps overlay renders with kustomize into what it
promises, and the Argo CD health checks (Lua) say what they should on TrainingRuns and models.
"""

from __future__ import annotations

import subprocess
from typing import Any

import lupa  # type: ignore[import-untyped]
import pytest
import yaml

from tests.install import charts

GITOPS = charts.REPO / "examples" / "gitops"
OVERLAY = GITOPS / "overlays" / "production"


def test_deploy_is_the_chart_rendered() -> None:
    for name, text in charts.deploy_manifests().items():
        path = charts.DEPLOY / name
        assert path.read_text() == text, f"deploy/{name} is stale: run `make manifests`"


def test_deploy_splits_crds_from_the_rest() -> None:
    crds = [o for _, o in charts.documents((charts.DEPLOY / "crds.yaml").read_text())]
    rest = [o for _, o in charts.documents((charts.DEPLOY / "textclf-operator.yaml").read_text())]
    assert {o["kind"] for o in crds} == {"CustomResourceDefinition"}
    assert rest[0]["kind"] == "Namespace"
    assert rest[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert "Pod" not in {o["kind"] for o in rest}  # no helm test hook in plain manifests
    assert all("helm.sh/hook" not in o["metadata"].get("annotations", {}) for o in rest)


def kustomize(path: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(charts.kubectl()), "kustomize", path], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [o for o in yaml.safe_load_all(done.stdout) if o]


def test_overlay_renders_production() -> None:
    objs = kustomize(str(OVERLAY))
    kinds = {o["kind"] for o in objs}
    assert {"Namespace", "CustomResourceDefinition", "Deployment", "TrainingTemplate"} <= kinds
    namespaced = {"ServiceAccount", "Service", "Deployment", "NetworkPolicy", "Role", "RoleBinding"}
    for obj in objs:
        if obj["kind"] in namespaced:
            assert obj["metadata"]["namespace"] == "textclf-prod", obj["kind"]
        elif obj["kind"] != "Namespace":
            assert "namespace" not in obj["metadata"], f"{obj['kind']} is cluster-scoped"
    (namespace,) = [o for o in objs if o["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == "textclf-prod"
    (binding,) = [o for o in objs if o["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"][0]["namespace"] == "textclf-prod"
    (deployment,) = [o for o in objs if o["kind"] == "Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example.com/prod/textclf-operator:0.1.0"
    assert container["resources"]["limits"]["memory"] == "1Gi"
    assert deployment["spec"]["replicas"] == 1
    for template in (o for o in objs if o["kind"] == "TrainingTemplate"):
        assert template["spec"]["image"] == "registry.example.com/prod/textclf-trainer:0.1.0"
        options = template["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
        assert "SkipDryRunOnMissingResource=true" in options
    for crd in (o for o in objs if o["kind"] == "CustomResourceDefinition"):
        assert "Prune=false" in crd["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]


def test_argocd_application_syncs_the_overlay() -> None:
    app = yaml.safe_load((GITOPS / "argocd" / "application.yaml").read_text())
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["kind"] == "Application"
    source = app["spec"]["source"]
    assert source["repoURL"] == "https://git.example.com/platform/gitops.git"
    assert source["path"].endswith("overlays/production")
    assert app["spec"]["destination"]["namespace"] == "textclf-prod"
    assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]


# --- Argo CD health checks ------------------------------------------------------------------------


def health_scripts() -> dict[str, str]:
    cm = yaml.safe_load((GITOPS / "argocd" / "argocd-cm.yaml").read_text())
    prefix = "resource.customizations.health."
    return {key.removeprefix(prefix): value for key, value in cm["data"].items()}


def health(kind: str, obj: dict[str, Any]) -> dict[str, str]:
    """Run Argo CD's health script of ``kind`` on ``obj`` (a global ``obj``, as Argo CD does)."""
    lua = lupa.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(health_scripts()[f"textclf.io_{kind}"])
    return {str(k): str(v) for k, v in result.items()}


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
        "observedGeneration": 1,
    }


RUNS: list[tuple[dict[str, Any], str]] = [
    ({}, "Progressing"),
    ({"status": {"conditions": []}}, "Progressing"),
    (
        {
            "status": {
                "code": "MODEL-TRAINING",
                "conditions": [_condition("Running", "True", "Training")],
            }
        },
        "Progressing",
    ),
    (
        {
            "status": {
                "code": "MODEL-TRAINED",
                "observedGeneration": 1,
                "conditions": [
                    _condition("Succeeded", "True", "Trained"),
                    _condition("Failed", "False", "Trained"),
                ],
            }
        },
        "Healthy",
    ),
    (
        {
            "status": {
                "code": "MODEL-TRAINING-FAILED",
                "detailCode": "MODEL-TRAINING-NO-DATA",
                "description": "no rows",
                "conditions": [_condition("Failed", "True", "NoData", "no rows")],
            }
        },
        "Degraded",
    ),
    (
        {
            "metadata": {"generation": 2},
            "status": {
                "observedGeneration": 1,
                "conditions": [_condition("Succeeded", "True", "Trained")],
            },
        },
        "Progressing",
    ),
]


@pytest.mark.parametrize(("run", "expected"), RUNS)
def test_training_run_health(run: dict[str, Any], expected: str) -> None:
    obj = {"metadata": {"name": "r", "generation": 1}, **run}
    hs = health("TrainingRun", obj)
    assert hs["status"] == expected
    assert hs["message"]


def test_training_run_degraded_message_names_the_code() -> None:
    obj: dict[str, Any] = {"metadata": {"generation": 1}}
    obj.update(RUNS[4][0])
    assert health("TrainingRun", obj)["message"] == (
        "MODEL-TRAINING-FAILED (MODEL-TRAINING-NO-DATA): no rows"
    )


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (None, "Progressing"),
        ([_condition("Ready", "False", "NoTrainedVersion", "no run has succeeded")], "Progressing"),
        (
            [
                _condition("Ready", "True", "Trained", "reviews-v1"),
                _condition("Serving", "False", "Off"),
            ],
            "Healthy",
        ),
    ],
)
def test_model_health(conditions: list[dict[str, Any]] | None, expected: str) -> None:
    obj: dict[str, Any] = {"metadata": {"name": "m", "generation": 1}}
    if conditions is not None:
        obj["status"] = {"conditions": conditions}
    assert health("TextClassifierModel", obj)["status"] == expected
