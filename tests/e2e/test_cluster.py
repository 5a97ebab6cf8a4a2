"""The user's flow on a real node, in order: install with Helm, train the quickstart in a real Pod
(embedding-logreg, then hf-advanced for one short epoch), fail bad data and a deadline with their
codes, delete a run, serve the trained model and predict through its Service, evaluate it later in
another Pod, uninstall. Every container is a textclf image built from its Dockerfile; nothing plays
the kubelet here."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import cluster
from tests.e2e.helpers import REPO, get, ok
from tests.operator.support import eventually
from textclf.api import codes

pytestmark = [pytest.mark.e2e, pytest.mark.training]
"""One node per machine: every test of the node is in this file, which pytest-xdist's loadfile
distribution gives to one worker (``xdist_group`` marks do not group with pytest 9)."""

NS = "e2e"
OPERATOR = f"{cluster.RELEASE}-textclf-operator"
IMDB = REPO / "examples" / "data" / "clarifai_imdb"


def _run(node: cluster.Cluster, name: str) -> Any:
    return get(node, "trainingrun", name, "-n", NS)


def _finished(node: cluster.Cluster, name: str, timeout: float = 420) -> dict[str, Any]:
    """The run's status once it is trained or failed."""

    def done() -> dict[str, Any] | None:
        status = (_run(node, name) or {}).get("status") or {}
        return (
            status
            if status.get("code") in (codes.StatusCode.TRAINED, codes.StatusCode.FAILED)
            else None
        )

    found: dict[str, Any] = eventually(done, timeout, f"run {name} to finish")
    return found


def _apply(node: cluster.Cluster, *objects: dict[str, Any]) -> None:
    ok(
        node,
        "apply",
        "-n",
        NS,
        "-f",
        "-",
        stdin=json.dumps({"kind": "List", "apiVersion": "v1", "items": list(objects)}),
    )


def _training_run(name: str, template: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "textclf.io/v1alpha1",
        "kind": "TrainingRun",
        "metadata": {"name": name},
        "spec": {
            "modelRef": {"name": "imdb"},
            "template": template,
            "dataset": {"train": {"uri": "configmap://imdb/train.csv"}},
            "output": {"uri": f"pvc://textclf-artifacts/named/{name}"},
            "resources": {"cpu": 1, "memory": "2Gi"},
            **spec,
        },
    }


def _trainer_pod(node: cluster.Cluster, run: str) -> dict[str, Any]:
    pods = get(node, "pods", "-n", NS, "-l", f"job-name={run}-train")
    assert pods is not None
    assert pods["items"], f"no Pod of run {run}"
    newest: dict[str, Any] = max(pods["items"], key=lambda p: p["metadata"]["creationTimestamp"])
    return newest


def test_helm_install_makes_the_operator_ready_through_its_probes(node: cluster.Cluster) -> None:
    node.install()
    deployment = get(node, "deployment", OPERATOR, "-n", cluster.RELEASE_NAMESPACE)
    assert deployment["status"].get("availableReplicas") == 1
    spec = deployment["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == OPERATOR
    (container,) = spec["containers"]
    assert container["readinessProbe"]
    assert container["livenessProbe"]
    pods = get(
        node, "pods", "-n", cluster.RELEASE_NAMESPACE, "-l", "app.kubernetes.io/instance=textclf"
    )
    (pod,) = pods["items"]
    assert pod["spec"]["serviceAccountName"] == OPERATOR
    ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert ready["Ready"] == "True"
    (state,) = pod["status"]["containerStatuses"]
    assert state["ready"]
    assert state["restartCount"] == 0
    assert state["imageID"], "the container ran from an image containerd holds"
    ok(node, "create", "namespace", NS)


def test_quickstart_trains_in_a_real_pod(node: cluster.Cluster) -> None:
    ok(
        node, "create", "configmap", "imdb", "-n", NS,
        f"--from-file={IMDB / 'train.csv'}", f"--from-file={IMDB / 'test.csv'}",
    )  # fmt: skip
    examples = REPO / "examples"
    claim = examples / "kubernetes" / "artifacts-claim.yaml"  # the default store's claim
    ok(node, "apply", "-n", NS, "-f", str(claim), "-f", str(examples / "quickstart.yaml"))
    status = _finished(node, "imdb-v1")
    assert status["code"] == codes.StatusCode.TRAINED, status
    assert status["metrics"]["test"]["accuracy"] > 0.6
    assert status["artifact"]["digest"].startswith("sha256:")
    # the quickstart names no output: the chart's default store, in the run's own folder
    assert status["artifact"]["uri"] == f"pvc://textclf-artifacts/{NS}/imdb/imdb-v1"

    # the result came from the real termination message of a container that ran as uid 65532
    pod = _trainer_pod(node, "imdb-v1")
    (terminated,) = [c["state"]["terminated"] for c in pod["status"]["containerStatuses"]]
    assert terminated["exitCode"] == 0
    result = json.loads(terminated["message"])  # the result as the trainer wrote it, under 4 KiB
    assert result["artifact"]["digest"] == status["artifact"]["digest"]
    assert result["metrics"]["test"]["accuracy"] == pytest.approx(
        status["metrics"]["test"]["accuracy"]
    )
    assert pod["spec"]["securityContext"]["runAsUser"] == 65532

    # the artifact is on the claim's volume (a hostPath PersistentVolume of the node)
    claim = get(node, "pvc", "textclf-artifacts", "-n", NS)
    volume = get(node, "pv", claim["spec"]["volumeName"])
    folder = pathlib.Path(volume["spec"]["hostPath"]["path"]) / NS / "imdb" / "imdb-v1"
    assert (folder / "textclf.json").is_file()
    owner = json.loads((folder / "run.json").read_text())  # the run that wrote it, and no other
    assert owner == {
        "kind": "TrainingRun",
        "namespace": NS,
        "name": "imdb-v1",
        "uid": get(node, "trainingrun", "imdb-v1", "-n", NS)["metadata"]["uid"],
    }

    # progress came through the operator's Service, authenticated by the projected token
    metrics = ok(
        node, "get", "--raw",
        f"/api/v1/namespaces/{cluster.RELEASE_NAMESPACE}/services/{OPERATOR}:metrics/proxy/metrics",
    )  # fmt: skip

    def requests(result: str) -> float:
        prefix = f'textclf_progress_requests_total{{result="{result}"}} '
        return sum(
            float(line[len(prefix) :]) for line in metrics.splitlines() if line.startswith(prefix)
        )

    assert requests("accepted") >= 1, metrics
    # the trainer paces itself to what the endpoint takes: nothing refused on the way
    assert requests("throttled") + requests("rate_limited") == 0, metrics

    model = get(node, "textclassifiermodel", "imdb", "-n", NS)
    assert model["status"]["latestVersion"]["run"] == "imdb-v1"


def test_hf_advanced_trains_one_short_epoch(node: cluster.Cluster) -> None:
    params = {"max_length": 64, "trainer_config": {"num_train_epochs": 1}}
    _apply(node, _training_run("imdb-hf", "hf-advanced", params=params))
    status = _finished(node, "imdb-hf")
    assert status["code"] == codes.StatusCode.TRAINED, status
    assert 0.0 <= status["metrics"]["train"]["accuracy"] <= 1.0


def test_bad_data_fails_with_its_code_from_the_exit_code(node: cluster.Cluster) -> None:
    ok(node, "create", "configmap", "empty", "-n", NS, "--from-literal=train.csv=input,concepts\n")
    run = _training_run("imdb-empty", "embedding-logreg")
    run["spec"]["dataset"] = {"train": {"uri": "configmap://empty/train.csv"}}
    _apply(node, run)
    status = _finished(node, "imdb-empty")
    assert (status["code"], status.get("detailCode")) == (
        codes.StatusCode.FAILED,
        codes.DetailCode.NO_DATA,
    ), status
    pod = _trainer_pod(node, "imdb-empty")
    (state,) = pod["status"]["containerStatuses"]
    assert (
        state["state"]["terminated"]["exitCode"]
        == codes.EXIT_CODE_FOR_DETAIL[codes.DetailCode.NO_DATA]
    )


def test_a_run_never_overwrites_another_runs_artifact(node: cluster.Cluster) -> None:
    taken = f"pvc://textclf-artifacts/{NS}/imdb/imdb-v1"  # the quickstart's artifact
    _apply(node, _training_run("imdb-clobber", "embedding-logreg", output={"uri": taken}))
    status = _finished(node, "imdb-clobber")
    assert (status["code"], status.get("detailCode")) == (
        codes.StatusCode.FAILED,
        codes.DetailCode.INVALID_PARAMS,
    ), status
    assert f"holds the artifact of another run ({NS}/imdb-v1, uid" in status["description"], status
    # the quickstart's artifact is intact: the predictor below loads it only if its digest holds


def test_a_run_past_its_deadline_fails_as_timed_out(node: cluster.Cluster) -> None:
    _apply(node, _training_run("imdb-late", "hf-advanced", activeDeadlineSeconds=5))
    status = _finished(node, "imdb-late")
    assert (status["code"], status.get("detailCode")) == (
        codes.StatusCode.FAILED,
        codes.DetailCode.TIMED_OUT,
    ), status


def test_deleting_a_run_removes_its_job_and_pods(node: cluster.Cluster) -> None:
    _apply(node, _training_run("imdb-gone", "hf-advanced"))
    eventually(
        lambda: any(
            p["status"].get("phase") == "Running"
            for p in (get(node, "pods", "-n", NS, "-l", "job-name=imdb-gone-train") or {}).get(
                "items", []
            )
        ),
        180,
        "the run's Pod to run",
    )
    ok(node, "delete", "trainingrun", "imdb-gone", "-n", NS, "--wait=false")
    eventually(lambda: _run(node, "imdb-gone") is None, 120, "the run to go")
    eventually(lambda: get(node, "job", "imdb-gone-train", "-n", NS) is None, 120, "its Job to go")
    eventually(
        lambda: not get(node, "pods", "-n", NS, "-l", "job-name=imdb-gone-train")["items"],
        120,
        "its Pods to go",
    )


def test_the_served_model_answers_through_its_service(node: cluster.Cluster) -> None:
    ok(node, "patch", "textclassifiermodel", "imdb", "-n", NS, "--type", "merge",
       "-p", json.dumps({"spec": {"serving": {"enabled": True, "version": "imdb-v1",
                                               "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}}}}))  # fmt: skip
    eventually(
        lambda: (get(node, "tcm", "imdb", "-n", NS)["status"].get("serving") or {}).get(
            "readyReplicas"
        ),
        300,
        "the predictor to be ready",
    )
    env = {**os.environ, "KUBECONFIG": str(node.kubeconfig)}
    done = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "textclf"), "predict", "imdb", "-n", NS, "--json",
         "A moving story with wonderful acting.", "Dull, predictable and far too long."],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == 2
    top = [max(answer["concepts"], key=lambda c: c["value"])["name"] for answer in answers]
    assert top == ["pos", "neg"], answers


def test_an_evaluation_runs_in_a_real_pod(node: cluster.Cluster) -> None:
    _apply(
        node,
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "ModelEvaluation",
            "metadata": {"name": "imdb-v1-on-test"},
            "spec": {
                "modelRef": {"name": "imdb"},
                "version": "imdb-v1",
                "dataset": {"uri": "configmap://imdb/test.csv"},
                "resources": {"cpu": 1, "memory": "2Gi"},
            },
        },
    )

    def evaluated() -> dict[str, Any] | None:
        status = (get(node, "modelevaluation", "imdb-v1-on-test", "-n", NS) or {}).get(
            "status"
        ) or {}
        return (
            status
            if status.get("code") in (codes.EvaluationCode.EVALUATED, codes.EvaluationCode.FAILED)
            else None
        )

    status = eventually(evaluated, 300, "the evaluation")
    assert status["code"] == codes.EvaluationCode.EVALUATED, status
    assert status["metrics"]["accuracy"] > 0.6


def test_helm_uninstall_leaves_only_what_the_crd_policy_keeps(node: cluster.Cluster) -> None:
    ok(node, "delete", "namespace", NS, "--timeout=180s")
    helm = node.plane.workdir / "bin" / "helm"
    done = subprocess.run(
        [str(helm), "uninstall", cluster.RELEASE, "-n", cluster.RELEASE_NAMESPACE, "--wait",
         f"--kubeconfig={node.kubeconfig}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    selector = "app.kubernetes.io/instance=textclf"
    kinds = "deploy,svc,sa,role,rolebinding,configmap,secret,networkpolicy"
    assert not get(node, kinds, "-A", "-l", selector)["items"]
    assert not get(node, "clusterrole,clusterrolebinding", "-l", selector)["items"]
    eventually(
        lambda: not get(node, "pods", "-n", cluster.RELEASE_NAMESPACE)["items"],
        120,
        "the operator's Pod to go",
    )
    # the default templates stay with the CRDs (crds.keep), as the README says
    templates = get(node, "trainingtemplates")["items"]
    assert {t["metadata"]["name"] for t in templates} == {
        "embedding-logreg",
        "hf-advanced",
        "hf-lora",
    }
    crds = get(node, "crd")["items"]
    assert {c["metadata"]["name"] for c in crds} >= {
        "trainingruns.textclf.io",
        "textclassifiermodels.textclf.io",
    }
