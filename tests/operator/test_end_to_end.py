"""One whole path with nothing played: TrainingRun -> Job -> Pod -> real training -> MODEL-TRAINED.

The test's kubelet takes the Pod the Job controller made and runs its container command as a local
process, as a kubelet would run the image: the run file from the Pod's downward-API annotation, the
ConfigMap of the dataset and the PVC of the output as folders, the Pod's environment, and a token
bound to the Pod for the progress endpoint. The real trainer trains the real MiniLM encoder on the
real IMDB example (embedding-logreg: seconds on a CPU), reports progress to the real operator, and
writes its termination message; the kubelet copies that into the Pod's status.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any, cast

import kubernetes
import pytest

from tests.operator.support import (
    E2E_TEMPLATE,
    Cluster,
    embeddings_template,
    eventually,
    kubelet_run,
)
from textclf.api import GROUP, VERSION, codes
from textclf_operator import handlers, metrics

pytestmark = [pytest.mark.cluster, pytest.mark.training]

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "examples" / "data" / "clarifai_imdb"


def test_real_trainer_through_the_operator(
    operator: handlers.Runtime,
    api_client: kubernetes.client.ApiClient,
    cluster: Cluster,
    tmp_path: pathlib.Path,
) -> None:
    embeddings_template(api_client)
    cluster.core.create_namespaced_config_map(
        cluster.namespace,
        cast(
            "Any",
            {
                "metadata": {"name": "imdb"},
                "data": {
                    "train.csv": (DATA / "train.csv").read_text(),
                    "test.csv": (DATA / "test.csv").read_text(),
                },
            },
        ),
    )
    cluster.create_model("imdb-sentiment", concepts=["neg", "pos"])
    accepted_before = metrics.PROGRESS_REQUESTS.labels("accepted")._value.get()
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TrainingRun",
        "metadata": {"name": "imdb-e2e"},
        "spec": {
            "modelRef": {"name": "imdb-sentiment"},
            "template": E2E_TEMPLATE,
            "dataset": {
                "train": {"uri": "configmap://imdb/train.csv"},
                "test": {"uri": "configmap://imdb/test.csv"},
            },
            "output": {"uri": "pvc://models/imdb"},
        },
    }
    cluster.custom.create_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "trainingruns", body
    )
    pod = cluster.pending_pod("imdb-e2e")
    kubelet_run(cluster, pod, operator, tmp_path)

    trained = cluster.wait_code("imdb-e2e", codes.StatusCode.TRAINED, timeout=120)
    test = trained["metrics"]["test"]
    assert test["examples"] == 71
    assert test["accuracy"] > 0.7  # frozen MiniLM + logistic regression on this data
    assert {c["concept"] for c in test["perConcept"]} == {"neg", "pos"}
    artifact = trained["artifact"]["uri"]
    assert artifact.startswith("pvc://models/imdb")
    on_disk = tmp_path / "pvc" / artifact.removeprefix("pvc://")
    assert (on_disk / "metrics.json").exists()
    reported = json.loads((on_disk / "metrics.json").read_text())
    assert reported["splits"]["test"]["accuracy"] == pytest.approx(test["accuracy"], abs=1e-6)
    assert metrics.PROGRESS_REQUESTS.labels("accepted")._value.get() > accepted_before
    # the bundled example's test file is a copy of part of its train file: the run says so
    assert trained["dataReport"]["leakedTestRows"] == 71
    leakage = next(c for c in trained["conditions"] if c["type"] == "DataLeakage")
    assert leakage["status"] == "True"
    assert trained["baseline"]["test"]["examples"] == 71
    assert "test" in trained["lift"]
    model = eventually(
        lambda: (m := cluster.model("imdb-sentiment")).get("status", {}).get("latestVersion") and m,
        30,
        "the model's latest version",
    )
    assert model["status"]["latestVersion"]["run"] == "imdb-e2e"
