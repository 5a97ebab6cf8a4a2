"""``textclf train -f run.yaml --wait`` against the real control plane and operator: the run file is
applied as a TrainingRun, the CLI watches it while the test plays the kubelet (the Pod starts, the
trainer reports progress to the operator, the Pod ends with a result), and it prints the progress
as it changes and then the same summary as ``textclf status``, with the trainer's outcome as its exit."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

import controlplane
from tests.operator.support import TEMPLATE, Cluster, eventually, post_progress, result_message
from textclf.api import GROUP, VERSION, codes
from textclf_operator import handlers

pytestmark = pytest.mark.cluster


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "textclf.cli.main", "train", *args]


def test_train_applies_the_run_and_waits(
    operator: handlers.Runtime,
    cluster: Cluster,
    template: str,
    control_plane: controlplane.ControlPlane,
    tmp_path: pathlib.Path,
) -> None:
    cluster.create_model("reviews")
    run_file = tmp_path / "run.yaml"
    run_file.write_text(
        yaml.safe_dump(
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "TrainingRun",
                "metadata": {"name": "reviews-v1"},
                "spec": {
                    "modelRef": {"name": "reviews"},
                    "template": TEMPLATE,
                    "dataset": {"train": {"uri": "configmap://imdb/train.csv"}},
                    "output": {"uri": "pvc://models/reviews/v1"},
                },
            }
        )
    )
    env = {**os.environ, "KUBECONFIG": str(control_plane.kubeconfig)}
    args = ["-f", str(run_file), "-n", cluster.namespace, "--wait"]
    with subprocess.Popen(
        _command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as waiting:
        try:
            pod = cluster.pending_pod("reviews-v1")
            cluster.start_pod(pod)
            cluster.wait_code("reviews-v1", codes.StatusCode.TRAINING)
            report = {"percent": 40, "epoch": 0.4, "step": 4, "totalSteps": 10, "loss": 0.6931}
            assert post_progress(operator, cluster.token(pod), report) == 202
            eventually(
                lambda: (cluster.status("reviews-v1").get("progress") or {}).get("percent") == 40,
                30,
                "progress in status",
            )
            # the CLI polls: let it print the 40% before the run finishes (pytest-timeout bounds it)
            assert waiting.stdout is not None
            seen = []
            for line in waiting.stdout:
                seen.append(line)
                if "40%" in line:
                    break
            cluster.finish_pod(pod, 0, result_message())
            rest, err = waiting.communicate(timeout=120)
            out = "".join(seen) + rest
        finally:
            if waiting.poll() is None:
                waiting.kill()
    assert waiting.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == f"trainingrun reviews-v1 created in namespace {cluster.namespace}"
    assert "reviews-v1: MODEL-TRAINING 40% loss 0.6931" in lines
    assert "run reviews-v1: MODEL-TRAINED" in out

    # a run is a record of one training: the same file again is refused, by name
    again = subprocess.run(
        _command("-f", str(run_file), "-n", cluster.namespace),
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert again.returncode == 2
    assert f"TrainingRun reviews-v1 exists in {cluster.namespace}" in again.stderr
    # a file the API server would refuse is refused before it is sent, naming the field
    bad = tmp_path / "bad.yaml"
    bad.write_text(run_file.read_text().replace("modelRef", "modelReference"))
    refused = subprocess.run(
        _command("-f", str(bad), "-n", cluster.namespace),
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "modelRef" in refused.stderr
