"""The same SDK calls against the real control plane and the real operator: an app is a namespace,
a dataset a ConfigMap, a model a TextClassifierModel, a version a TrainingRun the operator runs as a
Job; the test's kubelet runs that Job's Pod (the real trainer on the bundled IMDB sample), while
``wait_for_training`` watches the run's status until the operator writes MODEL-TRAINED."""

from __future__ import annotations

import pathlib
import threading
import uuid
from typing import Any

import kubernetes
import pytest

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
from textclf_operator import handlers

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

        # a dataset is a ConfigMap, checked before it is stored; too large a file names the options
        ds = app.create_dataset("text-dataset")
        big = tmp_path / "big.csv"
        row = "a long review that repeats itself," * 30
        big.write_text("input,concepts\n" + "".join(f'"{row} {i}",pos\n' for i in range(1200)))
        with pytest.raises(ValueError, match="PersistentVolumeClaim or in S3"):
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
        with pytest.raises(NotImplementedError, match="ModelEvaluation"):
            model.evaluate(dataset_id="text-dataset", eval_id="one")
    finally:
        core.delete_namespace(name)
