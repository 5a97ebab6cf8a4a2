"""The predictor Deployment and Service, built by pure functions, compared whole with expected manifests.

Regenerate the expected files after a deliberate change with
``TEXTCLF_UPDATE_GOLDEN=1 pytest tests/operator/test_predictors.py`` and review the diff.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest
import yaml

from textclf.api import channels, serving, textclassifiermodel
from textclf_operator import builders, config, predictors

DATA = pathlib.Path(__file__).resolve().parents[1] / "data" / "operator"
MODEL = {"metadata": {"name": "reviews", "namespace": "demo", "uid": "7d1e-model-uid"}}
DIGEST = "sha256:" + "ab" * 32
SETTINGS = config.Config(predictor_image="registry.example.com/textclf/textclf-trainer:0.1.0")


def _served(**overrides: Any) -> predictors.Served:
    values: dict[str, Any] = {
        "model": MODEL,
        "serving": textclassifiermodel.Serving.model_validate(
            {
                "enabled": True,
                "replicas": 2,
                "resources": {"requests": {"cpu": 1, "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
            }
        ),
        "version": "reviews-v1",
        "artifact_uri": "pvc://models/reviews/reviews-v1",
        "digest": DIGEST,
        "credentials": "s3-creds",
        **overrides,
    }
    return predictors.Served(**values)


@pytest.mark.parametrize(
    ("name", "built"),
    [
        ("reviews-predictor-deployment.yaml", lambda: predictors.deployment(_served(), SETTINGS)),
        ("reviews-predictor-service.yaml", lambda: predictors.service(MODEL)),
    ],
)
def test_predictor_matches_expected_manifest(name: str, built: Any) -> None:
    expected = DATA / name
    manifest = built()
    if os.environ.get("TEXTCLF_UPDATE_GOLDEN"):
        expected.write_text(yaml.safe_dump(manifest, sort_keys=True, width=100))
    assert manifest == yaml.safe_load(expected.read_text())


def test_container_runs_the_serving_contract() -> None:
    pod = predictors.deployment(_served(), SETTINGS)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["name"] == serving.CONTAINER
    assert container["command"] == ["python", "-m", "textclf_trainer"]
    assert container["args"] == serving.serve_args(
        artifact_uri="pvc://models/reviews/reviews-v1",
        model="reviews",
        version="reviews-v1",
        digest=DIGEST,
    )
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": serving.READY_PATH, "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": serving.LIVE_PATH, "port": "http"}
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= predictors.STARTUP_SECONDS
    assert container["resources"] == {
        "limits": {"memory": "2Gi"},
        "requests": {"cpu": "1", "memory": "2Gi"},
    }


def test_pvc_artifact_is_mounted_read_only_and_needs_no_credentials() -> None:
    pod = predictors.deployment(_served(), SETTINGS)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert {
        "name": "pvc-models",
        "persistentVolumeClaim": {"claimName": "models", "readOnly": True},
    } in pod["volumes"]
    assert {
        "name": "pvc-models",
        "mountPath": f"{channels.PVC_MOUNT_ROOT}/models",
        "readOnly": True,
    } in container["volumeMounts"]
    assert "envFrom" not in container  # a mounted claim needs no Secret


@pytest.mark.parametrize("uri", ["s3://bucket/reviews/v1", "https://models.example.com/v1"])
def test_remote_artifact_gets_the_runs_credentials(uri: str) -> None:
    pod = predictors.deployment(_served(artifact_uri=uri), SETTINGS)["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert [v["name"] for v in pod["volumes"]] == ["scratch"]
    bare = predictors.deployment(_served(artifact_uri=uri, credentials=None), SETTINGS)
    assert "envFrom" not in bare["spec"]["template"]["spec"]["containers"][0]


def test_pod_meets_restricted_profile() -> None:
    pod = predictors.deployment(_served(), SETTINGS)["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"] == builders.pod_security_context()
    assert pod["securityContext"]["runAsUser"] == 65532
    ctx = pod["containers"][0]["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
    assert env["HOME"] == env["TMPDIR"] == builders.SCRATCH_DIR
    assert env["HF_HOME"].startswith(builders.SCRATCH_DIR)


def test_owned_by_the_model_and_labelled() -> None:
    deployment = predictors.deployment(_served(), SETTINGS)
    service = predictors.service(MODEL)
    for obj in (deployment, service):
        assert obj["metadata"]["name"] == serving.predictor_name("reviews")
        (owner,) = obj["metadata"]["ownerReferences"]
        assert owner["uid"] == "7d1e-model-uid"
        assert owner["controller"] is True
        assert owner["blockOwnerDeletion"] is True
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == serving.COMPONENT
        assert obj["metadata"]["labels"][builders.MODEL_LABEL] == "reviews"
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pod_labels[predictors.VERSION_LABEL] == "reviews-v1"
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == service["spec"]["selector"]
    assert predictors.VERSION_LABEL not in selector  # one selector for every version
    assert all(pod_labels[k] == v for k, v in selector.items())
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http", 80, "http")


def test_hash_moves_with_what_matters_only() -> None:
    first = predictors.deployment(_served(), SETTINGS)
    again = predictors.deployment(_served(), SETTINGS)
    switched = predictors.deployment(_served(version="reviews-v2"), SETTINGS)
    assert predictors.applied_hash(first) == predictors.applied_hash(again)
    assert predictors.applied_hash(first) != predictors.applied_hash(switched)
    assert predictors.stamped(first) == first  # stamping is idempotent
    assert predictors.served_version(switched) == "reviews-v2"
    assert predictors.applied_hash(None) is None
