"""``python -m textclf_trainer evaluate``: the evaluator a ModelEvaluation's Job runs, as a process, on a
really trained artifact and the real SST-2 validation rows: the published output, its seal, the
termination message and the exit codes of its failures."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from tests.trainer import runs
from textclf.api import channels, codes, modelevaluation, trainingrun
from textclf_trainer import artifacts

pytestmark = pytest.mark.training


def _evaluate(
    tmp_path: pathlib.Path, request: channels.EvaluationRequest
) -> tuple[subprocess.CompletedProcess[str], channels.EvaluationResult]:
    request_file = tmp_path / "request.json"
    request_file.write_text(json.dumps(request.to_wire()))
    message = tmp_path / "termination-log"
    env = {
        **os.environ,
        channels.RUN_SPEC_ENV: str(request_file),
        channels.TERMINATION_MESSAGE_ENV: str(message),
    }
    done = subprocess.run(
        [sys.executable, "-m", "textclf_trainer", "evaluate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done, channels.EvaluationResult.from_termination_message(message.read_text())


def _request(
    trained: runs.Trained, test: pathlib.Path, output: pathlib.Path, **artifact: str
) -> channels.EvaluationRequest:
    digest = artifacts.verify(trained.artifact)
    return channels.EvaluationRequest(
        name="later",
        artifact=trainingrun.Artifact(
            uri=trained.artifact.as_uri(), **{"digest": digest, **artifact}
        ),
        dataset=modelevaluation.Dataset(
            uri=test.as_uri(), text_column="text", label_column="label"
        ),
        output=trainingrun.Output(uri=output.as_uri()),
    )


def test_evaluates_a_trained_artifact_and_publishes_sealed_results(
    sst2_embedding_logreg: runs.Trained, tmp_path: pathlib.Path
) -> None:
    trained = sst2_embedding_logreg
    output = tmp_path / "store" / "evaluations" / "later"
    done, result = _evaluate(tmp_path, _request(trained, trained.data["test"], output))
    assert done.returncode == 0, done.stderr[-2000:]
    assert result.code == codes.EvaluationCode.EVALUATED
    assert result.digest == artifacts.verify(trained.artifact)
    assert result.output == output.as_uri()
    artifacts.verify(output)  # sealed like an artifact: SHA256SUMS over what was written

    stored = json.loads((output / modelevaluation.PREDICTIONS_FILE).read_text())
    scores = np.array(stored["scores"])
    truth = [names[0] for names in stored["labels"]]
    guessed = [stored["concepts"][i] for i in scores.argmax(axis=1)]
    assert len(truth) == 872  # every SST-2 validation row
    assert result.summary is not None
    assert result.summary.accuracy == pytest.approx(skm.accuracy_score(truth, guessed), abs=1e-4)
    assert result.summary.macro_avg_recall == pytest.approx(
        skm.recall_score(truth, guessed, average="macro"), abs=1e-4
    )
    positive = stored["concepts"].index("positive")
    auc = skm.roc_auc_score([t == "positive" for t in truth], scores[:, positive])
    assert result.summary.macro_avg_roc_auc == pytest.approx(auc, abs=1e-4)
    # the same split that training evaluated as its test split: the same accuracy
    assert result.summary.accuracy == pytest.approx(
        trained.outcome.result.metrics["test"].accuracy, abs=1e-6
    )
    report = json.loads((output / modelevaluation.METRICS_FILE).read_text())
    assert report["metrics"]["examples"] == 872
    assert report["data"]["valid"] == 872


def test_failures_have_the_trainers_exit_codes(
    sst2_embedding_logreg: runs.Trained, tmp_path: pathlib.Path
) -> None:
    trained = sst2_embedding_logreg
    missing = tmp_path / "nope.csv"
    done, result = _evaluate(tmp_path, _request(trained, missing, tmp_path / "out"))
    assert done.returncode == int(codes.ExitCode.DATA_UNREADABLE)
    assert result.detail_code == codes.DetailCode.DATA_UNREADABLE
    assert "nope.csv" in result.message

    tampered = _request(
        trained, trained.data["test"], tmp_path / "out", digest="sha256:" + "0" * 64
    )
    done, result = _evaluate(tmp_path, tampered)
    assert done.returncode == int(codes.ExitCode.INVALID_PARAMS)
    assert "artifact digest mismatch" in result.message
    assert not (tmp_path / "out").exists()  # nothing published from an unverified model
