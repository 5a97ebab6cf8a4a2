"""The operator against the real control plane: TrainingRun -> Job -> Pods -> status, every path.

The test plays the kubelet (there is no node): it patches Pod status to running and to terminated with
an exit code and a termination message; the real Job controller then completes or fails the Job, and
the operator must follow. Namespaces enforce the "restricted" Pod Security profile, so a training Pod
that broke it would never be created.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, cast

import pytest

from tests.operator.support import (
    Cluster,
    eventually,
    open_progress,
    post_progress,
    progress_url,
    result_message,
)
from textclf.api import channels, codes
from textclf_operator import builders, handlers, progress

pytestmark = pytest.mark.cluster


def _plain_pod(cluster: Cluster, name: str, labels: dict[str, str]) -> Any:
    """A Pod no Job made (admitted under the restricted profile), with ``labels``."""
    return cluster.core.create_namespaced_pod(
        cluster.namespace,
        cast(
            "Any",
            {
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        ),
    )


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_lifecycle_to_model_trained(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("reviews-v1")
    job = cluster.job("reviews-v1")
    queued = cluster.wait_code("reviews-v1", codes.StatusCode.QUEUED)
    assert queued["jobName"] == job.metadata.name
    assert _condition(queued, "Queued")["status"] == "True"
    assert job.metadata.owner_references[0].kind == "TrainingRun"

    pod = cluster.pending_pod("reviews-v1")
    cluster.start_pod(pod)
    training = cluster.wait_code("reviews-v1", codes.StatusCode.TRAINING)
    assert _condition(training, "Running")["status"] == "True"
    assert training["startTime"]

    token = cluster.token(pod)
    report = {
        "percent": 42,
        "epoch": 1.5,
        "step": 42,
        "totalSteps": 100,
        "loss": 0.31,
        "etaSeconds": 60,
    }
    assert post_progress(operator, token, report) == 202
    progressed = eventually(
        lambda: (s := cluster.status("reviews-v1")).get("progress", {}).get("percent") == 42 and s,
        30,
        "progress in status",
    )
    assert progressed["progress"]["loss"] == pytest.approx(0.31)
    assert progressed["progress"]["totalSteps"] == 100

    cluster.finish_pod(pod, 0, result_message())
    trained = cluster.wait_code("reviews-v1", codes.StatusCode.TRAINED)
    assert trained["metrics"]["test"]["accuracy"] == pytest.approx(0.87)
    assert trained["metrics"]["test"]["perConcept"][1]["concept"] == "pos"
    assert trained["metrics"]["train"]["macroF1"] == pytest.approx(0.99)
    assert trained["artifact"]["uri"] == "pvc://models/reviews/v1"
    assert trained["progress"]["percent"] == 100
    assert trained["attempts"] == 1
    assert trained["completionTime"]
    assert _condition(trained, "Succeeded")["status"] == "True"
    assert _condition(trained, "Running")["status"] == "False"
    assert trained["description"].startswith("Model is trained")
    assert trained["baseline"]["test"]["accuracy"] == pytest.approx(0.8)
    assert trained["lift"]["test"] == {"accuracyPoints": 7.0, "macroF1Points": 7.0}
    assert trained["dataReport"]["leakedTestRows"] == 71
    leakage = _condition(trained, "DataLeakage")
    assert (leakage["status"], leakage["reason"]) == ("True", "LeakageFound")
    assert "71 of 71" in leakage["message"]
    assert _condition(trained, "BelowBaseline")["status"] == "False"

    model = eventually(
        lambda: (m := cluster.model()).get("status", {}).get("latestVersion") and m,
        30,
        "the model's latest version",
    )
    assert model["status"]["latestVersion"]["run"] == "reviews-v1"
    assert model["status"]["latestVersion"]["metrics"]["testAccuracy"] == pytest.approx(0.87)
    ready = _condition(model["status"], "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "VersionAvailable")

    # each transition announced exactly once (Events list in no particular order)
    cluster.wait_events("reviews-v1", ["Queued", "Trained", "Training"])


def test_job_is_restricted_and_complete(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run(
        "shape",
        resources={"gpu": 1, "memory": "3Gi"},
        nodeSelector={"gpu": "h100"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        activeDeadlineSeconds=3600,
        ttlSecondsAfterFinished=600,
        credentials="s3-creds",
        params={"trainer_config": {"num_train_epochs": 2}},
    )
    job = cluster.job("shape")
    pod = cluster.pending_pod("shape")  # admitted under the "restricted" Pod Security profile
    spec = job.spec
    assert spec.active_deadline_seconds == 3600
    assert spec.ttl_seconds_after_finished is None  # the operator deletes it, after the copy
    rules = spec.pod_failure_policy.rules
    assert rules[0].action == "FailJob"
    assert rules[0].on_exit_codes.values == list(codes.USER_ERROR_EXIT_CODES)
    assert rules[1].action == "Ignore"
    container = pod.spec.containers[0]
    assert container.resources.limits["nvidia.com/gpu"] == "1"
    assert container.resources.requests["memory"] == "3Gi"
    assert container.resources.requests["cpu"] == "1"  # the template's default
    assert container.env_from[0].secret_ref.name == "s3-creds"
    assert pod.spec.automount_service_account_token is False
    assert pod.spec.node_selector == {"gpu": "h100"}
    projected = next(v for v in pod.spec.volumes if v.name == "progress-token").projected
    assert projected.sources[0].service_account_token.audience == channels.PROGRESS_AUDIENCE
    mounts = {m.mount_path for m in container.volume_mounts}
    assert f"{channels.CONFIGMAP_MOUNT_ROOT}/imdb" in mounts
    assert f"{channels.PVC_MOUNT_ROOT}/models" in mounts
    spec_doc = json.loads(pod.metadata.annotations[builders.RUN_SPEC_ANNOTATION])
    # template defaults < model params < run params
    assert spec_doc["spec"]["params"]["trainer_config"]["num_train_epochs"] == 2
    assert spec_doc["spec"]["params"]["concepts"] == ["neg", "pos"]  # filled from the model


def test_user_error_fails_at_once(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("nodata", backoffLimit=3)
    pod = cluster.pending_pod("nodata")
    cluster.start_pod(pod)
    message = json.dumps(
        {
            "code": codes.StatusCode.FAILED.value,
            "detailCode": codes.DetailCode.NO_DATA.value,
            "message": "train.csv has no rows",
        }
    )
    cluster.finish_pod(pod, codes.ExitCode.NO_DATA, message)
    failed = cluster.wait_code("nodata", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.NO_DATA
    assert "train.csv has no rows" in failed["description"]
    assert _condition(failed, "Failed")["reason"] == "UserError"
    assert failed["attempts"] == 1
    assert len(cluster.pods("nodata")) == 1  # no retry of a user error


def test_infrastructure_error_is_retried(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("flaky", backoffLimit=2)
    first = cluster.pending_pod("flaky")
    cluster.start_pod(first)
    cluster.finish_pod(first, codes.ExitCode.INFRASTRUCTURE, "S3 unreachable")
    second = cluster.pending_pod("flaky", seen=1)
    cluster.start_pod(second)
    cluster.wait_code("flaky", codes.StatusCode.TRAINING)
    cluster.finish_pod(second, 0, result_message())
    trained = cluster.wait_code("flaky", codes.StatusCode.TRAINED)
    assert trained["attempts"] == 2


def test_retries_run_out(operator: handlers.Runtime, cluster: Cluster, template: str) -> None:
    cluster.create_model()
    cluster.create_run("doomed", backoffLimit=0)
    pod = cluster.pending_pod("doomed")
    cluster.start_pod(pod)
    cluster.finish_pod(pod, 137, "")
    failed = cluster.wait_code("doomed", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.BACKOFF_LIMIT_EXCEEDED
    assert "137" in failed["description"]


def test_killed_at_its_memory_limit(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    """The kubelet reports OOMKilled: the run is out of memory, the user's to fix, not a bare 137."""
    cluster.create_model()
    cluster.create_run("hungry", backoffLimit=0)
    pod = cluster.pending_pod("hungry")
    cluster.start_pod(pod)
    cluster.finish_pod(pod, 137, "", reason="OOMKilled")
    failed = cluster.wait_code("hungry", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.OUT_OF_MEMORY
    assert "spec.resources.memory" in failed["description"]
    assert _condition(failed, "Failed")["reason"] == "UserError"


def test_deadline(operator: handlers.Runtime, cluster: Cluster, template: str) -> None:
    cluster.create_model()
    cluster.create_run("slow", activeDeadlineSeconds=2)
    pod = cluster.pending_pod("slow")
    cluster.start_pod(pod)
    failed = cluster.wait_code("slow", codes.StatusCode.FAILED, timeout=90)
    assert failed["detailCode"] == codes.DetailCode.TIMED_OUT
    assert _condition(failed, "Failed")["reason"] == "DeadlineExceeded"


def test_preemption_spends_no_retry(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("preempted", backoffLimit=0)
    first = cluster.pending_pod("preempted")
    cluster.start_pod(first)
    cluster.finish_pod(first, 137, "", disrupted=True)
    second = cluster.pending_pod("preempted", seen=1)  # backoffLimit 0, yet a second Pod
    cluster.start_pod(second)
    cluster.finish_pod(second, 0, result_message())
    trained = cluster.wait_code("preempted", codes.StatusCode.TRAINED)
    assert trained["attempts"] == 1


def test_progress_is_refused_from_strangers(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("guarded")
    pod = cluster.pending_pod("guarded")
    cluster.start_pod(pod)
    cluster.wait_code("guarded", codes.StatusCode.TRAINING)  # the operator has seen the Pod
    report = {"percent": 50}
    assert post_progress(operator, None, report) == 401
    assert post_progress(operator, "not-a-token", report) == 401
    assert post_progress(operator, cluster.token(pod, audience="other-audience"), report) == 401
    stranger = _plain_pod(cluster, "stranger", {})
    assert post_progress(operator, cluster.token(stranger), report) == 403
    impostor = _plain_pod(
        cluster,
        "impostor",
        {builders.RUN_LABEL: "guarded", builders.MANAGED_BY[0]: builders.MANAGED_BY[1]},
    )
    eventually(lambda: operator.objects.get("pods", cluster.namespace, "impostor"), 30, "cached")
    # labelled as the run's and as ours, but not made by the run's Job: refused
    assert post_progress(operator, cluster.token(impostor), {"percent": 99}) == 403
    token = cluster.token(pod)
    assert post_progress(operator, token, {"percent": 500}) == 400
    assert post_progress(operator, token, report) == 202
    assert post_progress(operator, token, {"percent": 51}) == 429  # throttled
    eventually(
        lambda: cluster.status("guarded").get("progress", {}).get("percent") == 50,
        30,
        "the accepted report in status",
    )
    # A flood from one address: at most SOURCE_LIMIT requests a window are looked at (a bad token
    # costs one TokenReview, then stays refused from the cache), the rest get 429 before any
    # token is read, a genuine one included.
    answers = [_post(operator, "not-a-token") for _ in range(progress.SOURCE_LIMIT + 20)]
    looked_at = [a for a in answers if a != (429, "rate_limited")]
    assert set(looked_at) == {(401, "unauthenticated")}
    assert len(looked_at) <= progress.SOURCE_LIMIT
    assert len(answers) - len(looked_at) >= 20
    assert _post(operator, token) == (429, "rate_limited")


def _post(state: handlers.Runtime, token: str) -> tuple[int, str]:
    """POST a report; the HTTP status and the endpoint's error word ("" when accepted)."""
    request = urllib.request.Request(
        progress_url(state),
        data=b'{"percent": 60}',
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with open_progress(state, request) as response:
            return int(response.status), ""
    except urllib.error.HTTPError as err:
        return int(err.code), str(json.loads(err.read()).get("error"))


def test_bad_params_fail_and_missing_dependencies_wait(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("typo", params={"trainer_config": {"num_train_epochs": -1}, "lr": 1})
    failed = cluster.wait_code("typo", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.INVALID_PARAMS
    assert "params.trainer_config.num_train_epochs" in failed["description"]
    assert "'lr'" in failed["description"]
    assert cluster._read_job("typo") is None

    cluster.create_run("orphan", model="nobody")
    cluster.create_run("untemplated", template="not-yet")
    for name, missing in (("orphan", "spec.modelRef.name"), ("untemplated", "spec.template")):
        waiting = cluster.wait_code(name, codes.StatusCode.QUEUED)
        assert waiting["code"] == codes.StatusCode.QUEUED
        queued = _condition(waiting, "Queued")
        assert queued["reason"] == "WaitingForDependencies"
        assert missing in queued["message"]
        assert cluster._read_job(name) is None
    # they appear later (GitOps apply order): the runs go on
    cluster.create_model("nobody")
    cluster.job("orphan")
    cluster.custom.create_cluster_custom_object(
        "textclf.io",
        "v1alpha1",
        "trainingtemplates",
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "TrainingTemplate",
            "metadata": {"name": "not-yet"},
            "spec": {"image": "textclf/trainer:test"},
        },
    )
    cluster.job("untemplated")
    for name in ("orphan", "untemplated"):
        status = cluster.wait_code(name, codes.StatusCode.QUEUED)
        assert "completionTime" not in status
    # a run that failed stays failed, even when its template changes
    cluster.custom.patch_cluster_custom_object(
        "textclf.io",
        "v1alpha1",
        "trainingtemplates",
        template,
        {"metadata": {"labels": {"touched": "yes"}}},
    )
    cluster.wait_code("orphan", codes.StatusCode.QUEUED)
    assert cluster.status("typo")["code"] == codes.StatusCode.FAILED
    assert cluster._read_job("typo") is None


def _queued_reason(cluster: Cluster, run: str, reason: str) -> dict[str, Any]:
    def queued() -> dict[str, Any] | None:
        for c in cluster.status(run).get("conditions") or []:
            if c["type"] == "Queued" and c["status"] == "True" and c["reason"] == reason:
                return cast("dict[str, Any]", c)
        return None

    return eventually(queued, 60, f"{run}: Queued={reason}")


def test_refused_job_is_shown_and_retried(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    """A quota that refuses the Job, and a Job of the run's name that is not the run's: each shows
    in the run's Queued condition with the API server's words and a Warning Event, and the run goes
    on once the cause is gone (retried with backoff, not failed)."""
    cluster.create_model()
    cluster.core.create_namespaced_resource_quota(
        cluster.namespace,
        cast("Any", {"metadata": {"name": "no-jobs"}, "spec": {"hard": {"count/jobs.batch": "0"}}}),
    )
    eventually(  # the quota controller has counted the namespace: admission now enforces it
        lambda: (
            (q := cluster.core.read_namespaced_resource_quota("no-jobs", cluster.namespace).status)
            and q.hard
        ),
        60,
        "the quota's status",
    )
    cluster.create_run("over-quota")
    refused = _queued_reason(cluster, "over-quota", "JobRefused")
    assert "(403)" in refused["message"]
    assert "exceeded quota: no-jobs" in refused["message"]
    assert cluster.status("over-quota")["code"] == codes.StatusCode.QUEUED
    assert cluster._read_job("over-quota") is None
    eventually(
        lambda: any(r == "JobRefused" and "no-jobs" in m for r, m in cluster.events("over-quota")),
        30,
        "a JobRefused Event",
    )
    cluster.core.delete_namespaced_resource_quota("no-jobs", cluster.namespace)
    job = cluster.job("over-quota")
    assert job.metadata.owner_references[0].name == "over-quota"
    eventually(
        lambda: (
            (st := cluster.status("over-quota")).get("jobName") == job.metadata.name
            and all(c["reason"] != "JobRefused" for c in st["conditions"])
        ),
        30,
        "the refusal gone from the status",
    )

    squatter = builders.job_name("squatted")  # made by hand before the run, suspended: no Pods
    cluster.batch.create_namespaced_job(
        cluster.namespace,
        cast(
            "Any",
            {
                "metadata": {"name": squatter},
                "spec": {
                    "suspend": True,
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}],
                        }
                    },
                },
            },
        ),
    )
    cluster.create_run("squatted")
    taken = _queued_reason(cluster, "squatted", "JobRefused")
    assert f"Job {squatter} already exists" in taken["message"]
    assert "no owner" in taken["message"]
    cluster.batch.delete_namespaced_job(
        squatter, cluster.namespace, propagation_policy="Background"
    )
    eventually(
        lambda: (
            (j := cluster._read_job("squatted")) is not None
            and j.metadata.owner_references
            and j.metadata.owner_references[0].name == "squatted"
        ),
        90,
        "the run's own Job after the squatter is gone",
    )


def test_suspend_and_queue(operator: handlers.Runtime, cluster: Cluster, template: str) -> None:
    cluster.create_model()
    cluster.create_run("held", suspend=True)
    held = cluster.wait_code("held", codes.StatusCode.QUEUED)
    eventually(
        lambda: _condition(cluster.status("held"), "Suspended")["status"] == "True",
        30,
        "Suspended=True",
    )
    assert cluster.job("held").spec.suspend is True
    assert held["jobName"]
    cluster.custom.patch_namespaced_custom_object(
        "textclf.io",
        "v1alpha1",
        cluster.namespace,
        "trainingruns",
        "held",
        {"spec": {"suspend": False}},
    )
    eventually(lambda: cluster._read_job("held").spec.suspend is False, 30, "the Job resumed")
    cluster.pending_pod("held")

    cluster.create_run("queued", queueName="team-a")
    job = cluster.job("queued")
    assert job.spec.suspend is True  # Kueue admits it by unsuspending
    assert job.metadata.labels[builders.QUEUE_LABEL] == "team-a"


def test_job_deleted_by_hand_is_not_recreated(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("lost")
    job = cluster.job("lost")
    cluster.wait_code("lost", codes.StatusCode.QUEUED)
    cluster.batch.delete_namespaced_job(
        job.metadata.name, cluster.namespace, propagation_policy="Background"
    )
    failed = cluster.wait_code("lost", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.JOB_LOST
    assert cluster._read_job("lost") is None


def test_deleting_a_run_removes_its_job_and_pods(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model()
    cluster.create_run("doomed-run")
    cluster.pending_pod("doomed-run")
    cluster.custom.delete_namespaced_custom_object(
        "textclf.io", "v1alpha1", cluster.namespace, "trainingruns", "doomed-run"
    )
    eventually(lambda: cluster._read_job("doomed-run") is None, 60, "the Job garbage-collected")
    eventually(lambda: not cluster.pods("doomed-run"), 60, "the Pods garbage-collected")


def test_many_runs_at_once(operator: handlers.Runtime, cluster: Cluster, template: str) -> None:
    cluster.create_model()
    names = [f"many-{i}" for i in range(15)]
    for name in names:
        cluster.create_run(name)
    for name in names:
        cluster.wait_code(name, codes.StatusCode.QUEUED)
    jobs = cluster.batch.list_namespaced_job(cluster.namespace).items
    assert sorted(str(j.metadata and j.metadata.name) for j in jobs) == sorted(
        builders.job_name(n) for n in names
    )


def test_metrics_endpoint(operator: handlers.Runtime, cluster: Cluster, template: str) -> None:
    cluster.create_model()
    cluster.create_run("counted")
    cluster.wait_code("counted", codes.StatusCode.QUEUED)
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics") as resp:
        text = resp.read().decode()
    values = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert values['textclf_trainingruns{code="MODEL-QUEUED-FOR-TRAINING"}'] >= 1
    assert values['textclf_trainingrun_transitions_total{code="MODEL-QUEUED-FOR-TRAINING"}'] >= 1
    assert values['textclf_status_writes_total{kind="TrainingRun"}'] >= 1
    assert "textclf_trainingrun_queue_wait_seconds_bucket" in text


def test_templates_say_whether_they_are_valid(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    custom = cluster.custom
    custom.create_cluster_custom_object(
        "textclf.io",
        "v1alpha1",
        "trainingtemplates",
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "TrainingTemplate",
            "metadata": {"name": "broken-defaults"},
            "spec": {
                "image": "textclf/trainer:test",
                "defaults": {"epochs": "three"},
                "paramsSchema": {"type": "object", "properties": {"epochs": {"type": "integer"}}},
            },
        },
    )

    def valid(name: str) -> dict[str, Any] | None:
        body = cast(
            "dict[str, Any]",
            custom.get_cluster_custom_object("textclf.io", "v1alpha1", "trainingtemplates", name),
        )
        found = [
            c for c in (body.get("status") or {}).get("conditions", []) if c["type"] == "Valid"
        ]
        return found[0] if found else None

    assert eventually(lambda: valid(template), 30, "Valid on the good template")["status"] == "True"
    broken = eventually(lambda: valid("broken-defaults"), 30, "Valid on the broken template")
    assert (broken["status"], broken["reason"]) == ("False", "SchemaInvalid")
    assert "params.epochs" in broken["message"]


def test_a_run_without_template_uses_its_models(
    operator: handlers.Runtime, cluster: Cluster, template: str
) -> None:
    cluster.create_model("with-default", template=template)
    cluster.custom.create_namespaced_custom_object(
        "textclf.io",
        "v1alpha1",
        cluster.namespace,
        "trainingruns",
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "TrainingRun",
            "metadata": {"name": "defaulted"},
            "spec": {
                "modelRef": {"name": "with-default"},
                "dataset": {"train": {"uri": "configmap://imdb/train.csv"}},
                "output": {"uri": "pvc://models/x"},
            },
        },
    )
    pod = cluster.pending_pod("defaulted")
    assert pod.spec.containers[0].image == "textclf/trainer:test"  # the model's template's image
    doc = json.loads(pod.metadata.annotations[builders.RUN_SPEC_ANNOTATION])
    assert doc["spec"]["template"] == template  # the trainer is told which one

    cluster.create_model("without-default")
    cluster.custom.create_namespaced_custom_object(
        "textclf.io",
        "v1alpha1",
        cluster.namespace,
        "trainingruns",
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "TrainingRun",
            "metadata": {"name": "untemplated-run"},
            "spec": {
                "modelRef": {"name": "without-default"},
                "dataset": {"train": {"uri": "configmap://imdb/train.csv"}},
                "output": {"uri": "pvc://models/x"},
            },
        },
    )
    failed = cluster.wait_code("untemplated-run", codes.StatusCode.FAILED)
    assert failed["detailCode"] == codes.DetailCode.INVALID_PARAMS
    assert "spec.template" in failed["description"]
