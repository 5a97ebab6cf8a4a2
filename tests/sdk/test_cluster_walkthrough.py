"""The same SDK calls against the real control plane and the real operator: an app is a namespace,
a dataset a ConfigMap, a model a TextClassifierModel, a version a TrainingRun the operator runs as a
Job; the test's kubelet runs that Job's Pod (the real trainer on the bundled IMDB sample), while
``wait_for_training`` watches the run's status until the operator writes MODEL-TRAINED."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import threading
import uuid
from typing import Any

import kubernetes
import pytest
from sklearn import metrics as skm

import controlplane
import textclf
from tests.operator.support import (
    E2E_TEMPLATE,
    TEMPLATE,
    Cluster,
    embeddings_template,
    kubelet_run,
)
from tests.trainer import runs
from textclf.api import GROUP, VERSION
from textclf.sdk import cluster as sdk_cluster
from textclf_operator import evaljobs, handlers

pytestmark = [pytest.mark.cluster, pytest.mark.training]

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"


def test_the_walkthrough_on_a_cluster(  # noqa: PLR0917  (fixtures)
    operator: handlers.Runtime,
    template: str,
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    embeddings_template(api_client)
    client = textclf.Client(kubeconfig=str(control_plane.kubeconfig))
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(api_client)
    custom = kubernetes.client.CustomObjectsApi(api_client)
    app = client.create_app(name)
    try:
        namespace: Any = core.read_namespace(name)
        assert namespace.metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
        assert name in [a.id for a in client.list_apps()]
        with pytest.raises(ValueError, match=f"app '{name}' already exists"):
            client.create_app(name)

        # a dataset is a ConfigMap, checked before it is stored; a larger one needs the data claim
        # (tests/sdk/test_cluster_upload.py), and without one the way out is named
        ds = app.create_dataset("text-dataset")
        big = tmp_path / "big.csv"
        row = "a long review that repeats itself," * 30
        big.write_text("input,concepts\n" + "".join(f'"{row} {i}",pos\n' for i in range(1200)))
        with pytest.raises(ValueError, match="has no PersistentVolumeClaim textclf-datasets"):
            ds.upload_from_csv(big)
        report = ds.upload_from_csv(IMDB / "train.csv")
        assert report.concepts == {"neg": 120, "pos": 80}
        stored: Any = core.read_namespaced_config_map("textclf-dataset-text-dataset", name)
        assert stored.data["data.csv"] == (IMDB / "train.csv").read_text()
        assert [d.id for d in app.list_datasets()] == ["text-dataset"]

        # model, templates from the installed TrainingTemplates, params checked by their schema
        model = app.create_model("reviews", model_type_id="text-classifier")
        assert {E2E_TEMPLATE, TEMPLATE} <= set(model.list_training_templates())
        with pytest.raises(ValueError, match=r"unknown key.*'bogus'"):
            model.update_params(template=TEMPLATE, bogus=1)
        params = model.get_params(template=E2E_TEMPLATE, save_to="params.yaml")
        assert params["model_config"]["pretrained_model_name_or_path"].startswith("package://")
        model.update_params(
            template=E2E_TEMPLATE, dataset_id="text-dataset", concepts=["neg", "pos"]
        )
        tcm: Any = custom.get_namespaced_custom_object(
            GROUP, VERSION, name, "textclassifiermodels", "reviews"
        )
        assert tcm["spec"]["template"] == E2E_TEMPLATE
        assert tcm["spec"]["concepts"] == ["neg", "pos"]

        # train: a TrainingRun; the test kubelet runs its Pod while the SDK watches
        version = model.train()
        assert version == "reviews-v1"
        run: Any = custom.get_namespaced_custom_object(
            GROUP, VERSION, name, "trainingruns", version
        )
        assert (
            run["spec"]["dataset"]["train"]["uri"]
            == "configmap://textclf-dataset-text-dataset/data.csv"
        )
        assert run["spec"]["output"]["uri"] == f"{sdk_cluster.DEFAULT_ARTIFACTS}/reviews/{version}"
        kube = Cluster(api_client, name)
        pod = kube.pending_pod(version)
        codes_seen: list[int] = []
        kubelet = threading.Thread(
            target=lambda: codes_seen.append(kubelet_run(kube, pod, operator, tmp_path / "pod"))
        )
        kubelet.start()
        finished = model.wait_for_training(version, timeout=300)
        kubelet.join(60)
        assert codes_seen == [0]
        assert finished.code == "MODEL-TRAINED", finished.description
        assert finished.metrics is not None
        status = model.training_status(version, training_logs=True)
        assert status.code == "MODEL-TRAINED"
        log = pathlib.Path(f"{version}.log").read_text()
        assert pod.metadata.name in log  # no node serves Pod logs here: the file says so
        assert model.list_versions() == [version]
        assert app.model("reviews").training_status(version).code == "MODEL-TRAINED"

        # predict goes to the served model: not served yet, and the SDK says how
        with pytest.raises(ValueError, match=r"is not served: set spec\.serving\.enabled: true"):
            model.predict(["a fine film"])

        # evaluate later, on the train data and on a test set uploaded after training: each a
        # ModelEvaluation the operator runs as a Job; the test kubelet runs the real evaluator
        test_ds = app.create_dataset("test-dataset")
        test_ds.upload_from_csv(IMDB / "test.csv")
        for eval_id, dataset_id in (("one", "text-dataset"), ("two", "test-dataset")):
            started = model.evaluate(dataset_id=dataset_id, eval_id=eval_id)
            assert started.status == "MODEL-QUEUED-FOR-EVALUATION"
            mev: Any = custom.get_namespaced_custom_object(
                GROUP, VERSION, name, "modelevaluations", eval_id
            )
            assert mev["spec"]["version"] == version
            assert (
                mev["spec"]["dataset"]["uri"]
                == f"configmap://textclf-dataset-{dataset_id}/data.csv"
            )
            eval_pod = kube.pending_pod(eval_id, label=evaljobs.EVALUATION_LABEL)
            assert eval_pod.spec.containers[0].command == [
                "python",
                "-m",
                "textclf_trainer",
                "evaluate",
            ]
            assert (
                eval_pod.spec.containers[0].image == "textclf/trainer:e2e"
            )  # the version's template
            assert kubelet_run(kube, eval_pod, operator, tmp_path / "pod") == 0
        with pytest.raises(ValueError, match="'two' already exists"):
            model.evaluate(dataset_id="test-dataset", eval_id="two")
        done = model.wait_for_evaluation("two", timeout=120)
        assert done.status == "MODEL-EVALUATED", done.description
        assert model.wait_for_evaluation("one", timeout=120).status == "MODEL-EVALUATED"
        assert [e.id for e in model.list_evaluations()] == ["one", "two"]
        assert (done.version_id, done.dataset_id) == (version, "test-dataset")
        mev = custom.get_namespaced_custom_object(GROUP, VERSION, name, "modelevaluations", "two")
        output = f"{sdk_cluster.DEFAULT_ARTIFACTS}/reviews/evaluations/two"
        assert mev["status"]["output"]["uri"] == output  # beside the artifact, not inside it
        assert mev["status"]["artifact"] == run_status(custom, name, version)["artifact"]

        # the summary in status agrees with the stored per-row scores, counted independently;
        # this process reads the claim where it is mounted, as a notebook Pod would
        monkeypatch.setenv("TEXTCLF_PVC_ROOT", str(tmp_path / "pod" / "pvc"))
        # so is the training log the trainer kept in its artifact, since no Pod log can be read
        model.training_status(version, training_logs=True)
        kept = pathlib.Path(f"{version}.log").read_text()
        assert f"the log the trainer kept in its artifact, {run['spec']['output']['uri']}" in kept
        assert "sealing and publishing the artifact" in kept
        shell = subprocess.run(
            [sys.executable, "-m", "textclf.cli.main", "logs", version, "--app", name],
            env={**os.environ, "KUBECONFIG": str(control_plane.kubeconfig)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert (shell.returncode, shell.stdout) == (0, kept), shell.stderr
        stored_rows = json.loads(
            (
                tmp_path / "pod" / "pvc" / output.removeprefix("pvc://") / "predictions.json"
            ).read_text()
        )
        truth = [labels[0] for labels in stored_rows["labels"]]
        guessed = [
            stored_rows["concepts"][max(range(2), key=row.__getitem__)]
            for row in stored_rows["scores"]
        ]
        assert done.summary is not None
        assert done.summary.examples == len(truth) == 71
        assert done.summary.accuracy == pytest.approx(skm.accuracy_score(truth, guessed), abs=1e-4)
        assert done.summary.macro_avg_f1_score == pytest.approx(
            skm.f1_score(truth, guessed, average="macro"), abs=1e-4
        )
        assert model.evaluation_metrics("two")["examples"] == 71
        per_concept, totals = textclf.EvalResultCompare(
            models=[model], datasets=[ds, test_ds]
        ).detailed_summary()
        assert sorted(totals["Dataset"]) == ["test-dataset", "text-dataset"]
        assert per_concept[per_concept["Dataset"] == "test-dataset"]["Total Labeled"].sum() == 71
    finally:
        core.delete_namespace(name)


def run_status(custom: kubernetes.client.CustomObjectsApi, namespace: str, run: str) -> Any:
    body: Any = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "trainingruns", run)
    return body["status"]
