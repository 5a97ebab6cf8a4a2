"""ModelEvaluation against the real control plane: resolved to a trained version, run as a Job of the
version's template image, its status computed from the Pod the test plays the kubelet for (the real
evaluator runs in the SDK walk-through); admission refuses what the API server can check.
"""

from __future__ import annotations

import json
from typing import Any

import kubernetes
import pytest

from tests.operator.support import (
    Cluster,
    evaluation_message,
    eventually,
    result_message,
)
from textclf.api import GROUP, VERSION, channels, codes
from textclf_operator import builders, evaljobs, handlers

pytestmark = pytest.mark.cluster


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def _train(cluster: Cluster, run: str) -> None:
    cluster.create_run(run, output={"uri": f"pvc://models/reviews/{run}"})
    pod = cluster.pending_pod(run)
    cluster.start_pod(pod)
    artifact = {"uri": f"pvc://models/reviews/{run}", "digest": "sha256:" + "cd" * 32}
    cluster.finish_pod(pod, 0, result_message(artifact=artifact))
    cluster.wait_code(run, codes.StatusCode.TRAINED)


def test_an_evaluation_waits_for_a_trained_version_then_runs_on_it(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_evaluation("e1")
    waiting = cluster.wait_evaluation("e1", codes.EvaluationCode.QUEUED)
    queued = _condition(waiting, "Queued")
    assert queued["reason"] == "WaitingForDependencies"
    assert "model 'reviews' has no trained version yet" in queued["message"]
    assert "jobName" not in waiting

    _train(cluster, "v1")
    job: Any = eventually(
        lambda: (
            cluster.batch.list_namespaced_job(
                cluster.namespace, label_selector=f"{evaljobs.EVALUATION_LABEL}=e1"
            ).items
        ),
        30,
        "the evaluation Job",
    )[0]
    assert job.metadata.name == "e1-eval"
    assert job.metadata.owner_references[0].kind == "ModelEvaluation"
    container = job.spec.template.spec.containers[0]
    assert container.image == "textclf/trainer:test"  # the version's template
    assert container.command == ["python", "-m", "textclf_trainer", "evaluate"]
    assert container.security_context.read_only_root_filesystem is True
    request = channels.EvaluationRequest.model_validate_json(
        job.spec.template.metadata.annotations[builders.RUN_SPEC_ANNOTATION]
    )
    assert request.artifact.uri == "pvc://models/reviews/v1"
    assert request.artifact.digest == "sha256:" + "cd" * 32
    assert request.output.uri == "pvc://models/reviews/evaluations/e1"
    assert request.dataset.uri == "configmap://imdb/test.csv"
    mounts = {m.mount_path: m.read_only for m in container.volume_mounts}
    assert not mounts[f"{channels.PVC_MOUNT_ROOT}/models"]  # the output is written there
    assert mounts[f"{channels.CONFIGMAP_MOUNT_ROOT}/imdb"] is True
    assert not [v for v in job.spec.template.spec.volumes if v.projected]  # no progress token

    pod = cluster.pending_pod("e1", label=evaljobs.EVALUATION_LABEL)
    cluster.start_pod(pod)
    running = cluster.wait_evaluation("e1", codes.EvaluationCode.EVALUATING)
    assert running["version"] == "v1"
    assert running["jobName"] == "e1-eval"
    _train(cluster, "v2")  # a newer version while it runs: the evaluation stays on v1
    cluster.finish_pod(pod, 0, evaluation_message())
    done = cluster.wait_evaluation("e1", codes.EvaluationCode.EVALUATED)
    assert done["version"] == "v1"
    assert done["artifact"]["uri"] == "pvc://models/reviews/v1"
    assert done["summary"]["accuracy"] == 0.87
    assert done["summary"]["macroAvgF1Score"] == 0.86
    assert done["metrics"]["examples"] == 71
    assert done["output"]["uri"] == "pvc://models/reviews/evaluations/e1"
    assert done["completionTime"]
    assert _condition(done, "Succeeded")["status"] == "True"
    eventually(  # the Event follows the stored status
        lambda: ("Evaluated", done["description"]) in cluster.events("e1"),
        what="the Evaluated Event",
    )

    # an explicit version, once trained, is evaluated at once
    cluster.create_evaluation("e2", version="v2")
    pod = cluster.pending_pod("e2", label=evaljobs.EVALUATION_LABEL)
    request = channels.EvaluationRequest.model_validate_json(
        pod.metadata.annotations[builders.RUN_SPEC_ANNOTATION]
    )
    assert request.artifact.uri == "pvc://models/reviews/v2"


def test_evaluation_failures_say_why(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    _train(cluster, "v1")
    # the evaluator's user error: the Job fails at once (podFailurePolicy), the code says what
    cluster.create_evaluation("unreadable", dataset={"uri": "configmap://imdb/nope.csv"})
    pod = cluster.pending_pod("unreadable", label=evaljobs.EVALUATION_LABEL)
    cluster.start_pod(pod)
    said = channels.EvaluationResult(
        code=codes.EvaluationCode.FAILED,
        detail_code=codes.DetailCode.DATA_UNREADABLE,
        message="configmap://imdb/nope.csv: no such file",
    )
    cluster.finish_pod(pod, int(codes.ExitCode.DATA_UNREADABLE), said.to_termination_message())
    failed = cluster.wait_evaluation("unreadable", codes.EvaluationCode.FAILED)
    assert failed["detailCode"] == "MODEL-EVALUATION-DATA-UNREADABLE"
    assert "configmap://imdb/nope.csv: no such file" in failed["description"]
    assert _condition(failed, "Failed")["reason"] == "UserError"
    assert len(cluster.pods("unreadable", evaljobs.EVALUATION_LABEL)) == 1  # not retried

    # a version that failed to train has nothing to evaluate
    cluster.create_run("broken")
    broken = cluster.pending_pod("broken")
    cluster.start_pod(broken)
    cluster.finish_pod(broken, int(codes.ExitCode.NO_DATA))
    cluster.wait_code("broken", codes.StatusCode.FAILED)
    cluster.create_evaluation("of-broken", version="broken")
    refused = cluster.wait_evaluation("of-broken", codes.EvaluationCode.FAILED)
    assert refused["detailCode"] == "MODEL-EVALUATION-VERSION-NOT-TRAINED"
    assert "version broken failed to train" in refused["description"]

    # a version not there yet waits, and says for what
    cluster.create_evaluation("of-later", version="later")
    waiting = cluster.wait_evaluation("of-later", codes.EvaluationCode.QUEUED)
    assert "TrainingRun 'later' of model 'reviews' does not exist yet" in waiting["description"]

    # a Pod that succeeded without a result is not an evaluation
    cluster.create_evaluation("silent")
    pod = cluster.pending_pod("silent", label=evaljobs.EVALUATION_LABEL)
    cluster.start_pod(pod)
    cluster.finish_pod(pod, 0, "")
    silent = cluster.wait_evaluation("silent", codes.EvaluationCode.FAILED)
    assert silent["detailCode"] == "MODEL-EVALUATION-INTERNAL-ERROR"
    assert _condition(silent, "Failed")["reason"] == "NoResult"


def _create(cluster: Cluster, body: dict[str, Any]) -> kubernetes.client.ApiException:
    with pytest.raises(kubernetes.client.ApiException) as refused:
        cluster.custom.create_namespaced_custom_object(
            GROUP, VERSION, cluster.namespace, "modelevaluations", body
        )
    return refused.value


def test_admission_refuses_bad_evaluations(cluster: Cluster) -> None:
    base = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "ModelEvaluation",
        "metadata": {"name": "ok"},
        "spec": {"modelRef": {"name": "reviews"}, "dataset": {"uri": "configmap://imdb/t.csv"}},
    }
    long_name = {**base, "metadata": {"name": "e" * 53}}
    assert "at most 52 characters" in str(_create(cluster, long_name).body)
    bad_uri = json.loads(json.dumps(base))
    bad_uri["spec"]["dataset"]["uri"] = "ftp://somewhere/t.csv"
    assert "spec.dataset.uri" in str(_create(cluster, bad_uri).body)
    no_model = json.loads(json.dumps(base))
    del no_model["spec"]["modelRef"]
    assert "spec.modelRef" in str(_create(cluster, no_model).body)

    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "modelevaluations", base
    )
    with pytest.raises(kubernetes.client.ApiException) as changed:
        cluster.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            cluster.namespace,
            "modelevaluations",
            "ok",
            {"spec": {"version": "other"}},
        )
    assert "spec is immutable" in str(changed.value.body)
    crd: Any = kubernetes.client.ApiextensionsV1Api(
        cluster.core.api_client
    ).read_custom_resource_definition("modelevaluations.textclf.io")
    columns = crd.to_dict()
    names = [c["name"] for c in columns["spec"]["versions"][0]["additional_printer_columns"]]
    assert names[:5] == ["Model", "Version", "Code", "Accuracy", "Macro-F1"]
    assert columns["spec"]["names"]["short_names"] == ["mev"]
