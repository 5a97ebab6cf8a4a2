"""`textclf status` prints the same summary for a run in a cluster and for a local run: metrics beside
the baseline, the lift, the data report and the warnings."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys

import kubernetes
import pytest

import controlplane
from textclf.api import GROUP, VERSION, channels, codes, results, trainingrun
from textclf.cli import summary

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)
RESULT = channels.Result(
    code=codes.StatusCode.TRAINED,
    metrics={
        "test": channels.HeadlineSplit(
            examples=71, accuracy=0.87, macro_f1=0.86, macro_precision=0.88, macro_recall=0.85
        )
    },
    baseline={
        "test": channels.HeadlineSplit(
            examples=71, accuracy=0.9, macro_f1=0.9, macro_precision=0.9, macro_recall=0.9
        )
    },
    data_report=trainingrun.DataReportSummary(train_rows=200, test_rows=71, leaked_test_rows=71),
    warnings=[
        channels.Warning(type="DataLeakage", message="71 of 71 test rows also occur in train"),
        channels.Warning(
            type="BelowBaseline", message="macro F1 0.86 is below the baseline's 0.90"
        ),
    ],
)


def _status() -> trainingrun.TrainingRunStatus:
    return trainingrun.TrainingRunStatus(
        code=codes.StatusCode.TRAINED,
        metrics=results.metrics(RESULT.metrics),
        baseline=results.metrics(RESULT.baseline),
        lift=results.lift(RESULT),
        data_report=RESULT.data_report,
        conditions=results.warning_conditions([], RESULT, NOW, 1),
    )


def test_summary_shows_baseline_lift_leakage_and_warnings() -> None:
    text = summary.render("imdb-v1", _status())
    assert "leakage: 71/71 test rows also in train" in text
    assert "-3.0   -4.0" in text  # lift in points: 87.0 - 90.0 accuracy, 86.0 - 90.0 macro F1
    assert "warning DataLeakage: 71 of 71" in text
    assert "warning BelowBaseline" in text
    assert "SingleClassPredictions" not in text


def _textclf(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "textclf.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.cluster
def test_status_reads_the_same_locally_and_in_a_cluster(
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    custom = kubernetes.client.CustomObjectsApi(api_client)
    custom.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "trainingruns",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "TrainingRun",
            "metadata": {"name": "imdb-v1"},
            "spec": {
                "modelRef": {"name": "imdb"},
                "template": "embedding-logreg",
                "dataset": {"train": {"uri": "configmap://imdb/train.csv"}},
                "output": {"uri": "pvc://models/imdb"},
            },
        },
    )
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "trainingruns", "imdb-v1", {"status": _status().to_wire()}
    )
    in_cluster = _textclf(
        "status", "imdb-v1", "-n", namespace, env={"KUBECONFIG": str(control_plane.kubeconfig)}
    )
    (tmp_path / "imdb-v1").mkdir()
    (tmp_path / "imdb-v1" / "status.json").write_text(json.dumps(_status().to_wire()))
    local = _textclf("status", "imdb-v1", "--local", "--runs-dir", str(tmp_path), env={})
    assert in_cluster == local
    assert "leakage: 71/71" in local
