"""``spec.serving`` against the real control plane: the model's predictor Deployment and Service, the
version they serve, and the model's status following the Deployment's.

The test plays the kubelet for predictor Pods as for training Pods: the real ReplicaSet and Deployment
controllers count the Pods it marks ready (or unready) and write the Deployment's status, which the
operator must follow: RollingOut, then Ready, then Unavailable with the Deployment's own message.
Deleting the model leaves the rest to the real garbage collector.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import kubernetes
import pytest

from tests.operator.support import Cluster, eventually, result_message
from textclf.api import GROUP, VERSION, codes, serving
from textclf_operator import builders, handlers, kube, predictors

pytestmark = pytest.mark.cluster

MODEL = "reviews"
NAME = serving.predictor_name(MODEL)
DIGEST = "sha256:" + "ab" * 32


def _train(cluster: Cluster, run: str) -> str:
    """Take ``run`` to MODEL-TRAINED as the kubelet would; its artifact's URI."""
    uri = f"pvc://models/{MODEL}/{run}"
    cluster.create_run(run)
    pod = cluster.pending_pod(run)
    cluster.start_pod(pod)
    cluster.finish_pod(pod, 0, result_message(artifact={"uri": uri, "digest": DIGEST}))
    cluster.wait_code(run, codes.StatusCode.TRAINED)
    return uri


def _apps(cluster: Cluster) -> kubernetes.client.AppsV1Api:
    return kubernetes.client.AppsV1Api(cluster.core.api_client)


def _read(cluster: Cluster, read: Callable[[], Any]) -> dict[str, Any] | None:
    """The object ``read`` returns, as the API server's JSON; None if there is none."""
    try:
        obj = read()
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            return None
        raise
    return cast("dict[str, Any]", cluster.core.api_client.sanitize_for_serialization(obj))


def _deployment(cluster: Cluster) -> dict[str, Any] | None:
    return _read(
        cluster, lambda: _apps(cluster).read_namespaced_deployment(NAME, cluster.namespace)
    )


def _service(cluster: Cluster) -> dict[str, Any] | None:
    return _read(cluster, lambda: cluster.core.read_namespaced_service(NAME, cluster.namespace))


def _args(deployment: dict[str, Any]) -> list[str]:
    return cast("list[str]", deployment["spec"]["template"]["spec"]["containers"][0]["args"])


def _serving(cluster: Cluster) -> tuple[dict[str, Any], dict[str, Any]]:
    """(status.serving, the Serving condition) of the model."""
    status = cluster.model(MODEL).get("status") or {}
    condition = next(
        (c for c in status.get("conditions") or [] if c["type"] == "Serving"), {"reason": None}
    )
    return status.get("serving") or {}, condition


def _wait_reason(cluster: Cluster, reason: str, said: str = "") -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        _, condition = _serving(cluster)
        if condition["reason"] == reason and said in condition.get("message", ""):
            return condition
        return None

    return eventually(check, 60, f"Serving={reason} ({said!r}); now {_serving(cluster)}")


def _pods(cluster: Cluster, version: str) -> list[Any]:
    selector = ",".join(
        f"{k}={v}"
        for k, v in {**predictors.selector(MODEL), predictors.VERSION_LABEL: version}.items()
    )
    found = cluster.core.list_namespaced_pod(cluster.namespace, label_selector=selector).items
    return [p for p in found if p.metadata is not None and p.metadata.deletion_timestamp is None]


def _set_ready(cluster: Cluster, version: str, count: int, ready: bool = True) -> None:
    """Play the kubelet: the ``count`` predictor Pods of ``version`` run, ready or not."""

    def enough() -> list[Any] | None:
        found = _pods(cluster, version)
        return found if len(found) >= count else None

    pods = eventually(enough, 60, f"{count} predictor Pods of {version}")
    now = cluster._now()
    for pod in pods[:count]:
        cluster.core.patch_namespaced_pod_status(
            pod.metadata.name,
            cluster.namespace,
            {
                "status": {
                    "phase": "Running",
                    "startTime": now,
                    "conditions": [
                        {"type": "Ready", "status": str(ready), "lastTransitionTime": now},
                        {"type": "ContainersReady", "status": str(ready)},
                    ],
                    "containerStatuses": [
                        {
                            "name": serving.CONTAINER,
                            "image": "textclf/trainer:test",
                            "imageID": "",
                            "ready": ready,
                            "restartCount": 0,
                            "started": True,
                            "state": {"running": {"startedAt": now}},
                        }
                    ],
                }
            },
        )


def _patch_serving(cluster: Cluster, **fields: Any) -> None:
    cluster.custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        cluster.namespace,
        "textclassifiermodels",
        MODEL,
        {"spec": {"serving": fields}},
    )


def test_serve_switch_fail_disable(
    operator: handlers.Runtime,
    cluster: Cluster,
    template: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster.create_model(MODEL, serving={"enabled": True, "replicas": 1})
    _wait_reason(cluster, "NoTrainedVersion", "no run of this model has trained yet")
    assert _deployment(cluster) is None

    # the latest trained version is served: Deployment and Service, owned by the model
    v1 = _train(cluster, "reviews-v1")
    deployment = eventually(lambda: _deployment(cluster), 60, "the predictor Deployment")
    service = eventually(lambda: _service(cluster), 60, "the predictor Service")
    model = cluster.model(MODEL)
    for obj in (deployment, service):
        (owner,) = obj["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["uid"]) == ("TextClassifierModel", model["metadata"]["uid"])
        assert owner["controller"] is True
        assert owner["blockOwnerDeletion"] is True
        assert obj["metadata"]["labels"][builders.MODEL_LABEL] == MODEL
    assert _args(deployment) == serving.serve_args(
        artifact_uri=v1, model=MODEL, version="reviews-v1", digest=DIGEST
    )
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == serving.PORT_NAME
    # the ReplicaSet's Pod was admitted under the restricted profile; until it is ready, rolling out
    condition = _wait_reason(cluster, "RollingOut", "0 of 1 replicas ready")
    assert condition["status"] == "Unknown"

    _set_ready(cluster, "reviews-v1", 1)
    ready = _wait_reason(cluster, "Ready", "version reviews-v1: 1 of 1 replicas ready")
    assert ready["status"] == "True"
    status, _ = _serving(cluster)
    assert status == {
        "url": f"http://{NAME}.{cluster.namespace}.svc.cluster.local",
        "version": "reviews-v1",
        "readyReplicas": 1,
    }

    # nothing changed: a model reconcile writes neither the Deployment nor the Service
    applies: list[str] = []
    real_apply = kube.apply

    def counted(manifest: Any) -> dict[str, Any]:
        applies.append(manifest["kind"])
        return real_apply(manifest)

    monkeypatch.setattr(kube, "apply", counted)
    cluster.custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        cluster.namespace,
        "textclassifiermodels",
        MODEL,
        {"spec": {"description": "x"}},
    )
    generation = cluster.model(MODEL)["metadata"]["generation"]
    eventually(
        lambda: cluster.model(MODEL)["status"].get("observedGeneration") == generation,
        30,
        "the model's status to observe the description change",
    )
    assert applies == []

    # a Service deleted by hand comes back
    cluster.core.delete_namespaced_service(NAME, cluster.namespace)
    eventually(
        lambda: (s := _service(cluster)) and s["metadata"]["uid"] != service["metadata"]["uid"],
        60,
        "the Service re-created",
    )
    assert applies == ["Service"]

    # a Deployment scaled by hand is set back: spec.serving.replicas is what counts
    _apps(cluster).patch_namespaced_deployment_scale(
        NAME, cluster.namespace, {"spec": {"replicas": 3}}
    )
    eventually(
        lambda: (d := _deployment(cluster)) and d["spec"]["replicas"] == 1 and d,
        60,
        "the hand-scaled Deployment set back to 1 replica",
    )
    assert applies == ["Service", "Deployment"]

    # a newer trained version rolls the Pod template; the old Pod serves until the new one is ready
    v2 = _train(cluster, "reviews-v2")

    def switched() -> dict[str, Any] | None:
        found = _deployment(cluster)
        return found if found is not None and "reviews-v2" in _args(found) else None

    rolled = eventually(switched, 60, "the Deployment to switch to reviews-v2")
    assert _args(rolled) == serving.serve_args(
        artifact_uri=v2, model=MODEL, version="reviews-v2", digest=DIGEST
    )
    assert (
        rolled["spec"]["template"]["metadata"]["labels"][predictors.VERSION_LABEL] == "reviews-v2"
    )
    assert rolled["metadata"]["generation"] > deployment["metadata"]["generation"]
    _wait_reason(cluster, "RollingOut", "of an earlier version still running")
    _set_ready(cluster, "reviews-v2", 1)
    _wait_reason(cluster, "Ready", "version reviews-v2: 1 of 1 replicas ready")
    changed = (
        "ServedVersionChanged",
        "the predictor rolls out version reviews-v2 (was reviews-v1)",
    )
    eventually(lambda: changed in cluster.events(MODEL), what="the ServedVersionChanged Event")

    # its Pod goes unready: Unavailable, in the Deployment's own words
    _set_ready(cluster, "reviews-v2", 1, ready=False)
    unavailable = _wait_reason(
        cluster, "Unavailable", "Deployment does not have minimum availability"
    )
    assert unavailable["status"] == "False"
    assert "0 of 1 replicas ready" in unavailable["message"]
    eventually(
        lambda: any(reason == "ServingUnavailable" for reason, _ in cluster.events(MODEL)),
        what="the ServingUnavailable Event",
    )

    # a pinned version rolls back; a version that is no run leaves the predictor as it is
    _patch_serving(cluster, version="reviews-v1")
    eventually(
        lambda: (d := _deployment(cluster)) and "reviews-v1" in _args(d), 60, "pinned to reviews-v1"
    )
    _patch_serving(cluster, version="reviews-v9")
    missing = _wait_reason(cluster, "VersionNotFound", "'reviews-v9' does not exist")
    assert "the predictor still runs version reviews-v1" in missing["message"]
    assert "reviews-v1" in _args(cast("dict[str, Any]", _deployment(cluster)))

    # disabled: both go, and so does status.serving
    _patch_serving(cluster, enabled=False)
    eventually(lambda: _deployment(cluster) is None, 60, "the Deployment to go")
    eventually(lambda: _service(cluster) is None, 60, "the Service to go")
    disabled = _wait_reason(cluster, "ServingDisabled")
    assert disabled["status"] == "False"
    assert "serving" not in cluster.model(MODEL)["status"]


def test_version_of_another_model_or_untrained(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model("other")
    cluster.create_run("other-v1", model="other")
    cluster.create_model(MODEL, serving={"enabled": True, "version": "other-v1"})
    _wait_reason(cluster, "VersionNotFound", "'other-v1' trains model 'other', not 'reviews'")
    cluster.create_run("reviews-v1")
    cluster.job("reviews-v1")
    _patch_serving(cluster, version="reviews-v1")
    _wait_reason(cluster, "VersionNotFound", "'reviews-v1' is MODEL-QUEUED-FOR-TRAINING")
    assert _deployment(cluster) is None
    # once it trains, it is served
    pod = cluster.pending_pod("reviews-v1")
    cluster.start_pod(pod)
    cluster.finish_pod(pod, 0, result_message())
    _wait_reason(cluster, "RollingOut")
    assert _deployment(cluster) is not None


def test_deleting_the_model_deletes_the_predictor(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model(MODEL, serving={"enabled": True, "replicas": 2})
    _train(cluster, "reviews-v1")
    deployment = eventually(lambda: _deployment(cluster), 60, "the predictor Deployment")
    assert deployment["spec"]["replicas"] == 2
    eventually(lambda: _service(cluster), 60, "the predictor Service")
    eventually(lambda: len(_pods(cluster, "reviews-v1")) == 2, 60, "two predictor Pods")
    cluster.custom.delete_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "textclassifiermodels", MODEL
    )
    # the real garbage collector follows the owner references
    eventually(lambda: _deployment(cluster) is None, 90, "the Deployment to be collected")
    eventually(lambda: _service(cluster) is None, 90, "the Service to be collected")
    eventually(lambda: not _pods(cluster, "reviews-v1"), 90, "the predictor Pods to be collected")


def test_a_served_model_needs_a_name_its_service_can_carry(cluster: Cluster) -> None:
    long_name = "m" * 53
    with pytest.raises(kubernetes.client.ApiException) as refused:
        cluster.create_model(long_name, serving={"enabled": True})
    assert refused.value.status == 422
    assert "predictor Service is named NAME-predictor" in str(refused.value.body)
    with pytest.raises(kubernetes.client.ApiException):
        cluster.create_model("2fast", serving={"enabled": True})
    cluster.create_model(long_name)  # not served: any object name will do
    cluster.create_model("2fast", serving={"enabled": False})
