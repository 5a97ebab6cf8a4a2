"""The hosted walk-through typed at a shell, on the embedded backend: params to a file, train with it
and wait, the saved log, evaluate later and wait, compare with tables and plots. Real training
(embedding-logreg on the packaged MiniLM encoder, the bundled IMDB sample) in real child processes;
what the commands print is checked against what the SDK reads from the same home."""

from __future__ import annotations

import csv
import pathlib
import re

import pytest
import yaml

import textclf
from tests.cli import shell
from tests.trainer import runs

pytestmark = pytest.mark.training

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"


def test_train_logs_evaluate_compare_from_the_shell(tmp_path: pathlib.Path) -> None:
    home = tmp_path / "home"
    shell.ok(home, "apps", "create", "demo")
    for dataset, name in (("text-dataset", "train.csv"), ("test-dataset", "test.csv")):
        shell.ok(home, "datasets", "upload", str(IMDB / name), "--app", "demo", "--id", dataset)
    shell.ok(home, "models", "create", "reviews", "--app", "demo")
    assert shell.ok(home, "model-types") == "text-classifier\n"

    # params to a file, edited, then trained with (--dataset sets its dataset_id)
    params_file = tmp_path / "params.yaml"
    shown = shell.ok(home, "params", "embedding-logreg", "--app", "demo", "--model", "reviews")
    shell.ok(
        home, "params", "embedding-logreg", "--app", "demo", "--model", "reviews", "-o", "p.yaml"
    )
    params = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert params == yaml.safe_load(shown)
    assert (params["template"], params["dataset_id"]) == ("embedding-logreg", "")
    params["model_config"] = {"pretrained_model_name_or_path": runs.BACKBONE}
    params["max_length"] = 128
    params_file.write_text(yaml.safe_dump(params))
    params_file.with_name("typo.yaml").write_text(yaml.safe_dump({**params, "no_such_knob": 1}))
    refused = shell.textclf(home, "train", "--app", "demo", "--model", "reviews", "-f", "typo.yaml")
    assert refused.returncode == 2
    assert "no_such_knob" in refused.stderr
    trained = shell.ok(
        home, "train", "--app", "demo", "--model", "reviews", "-f", str(params_file),
        "--dataset", "text-dataset", "--wait",
    )  # fmt: skip
    model = textclf.Client(local=True, home=home).app("demo").model("reviews")
    assert model.list_versions() == ["reviews-v1"]
    status = model.training_status("reviews-v1")
    assert status.code == "MODEL-TRAINED"
    assert status.metrics is not None
    on_train = status.metrics.train
    assert on_train is not None
    assert trained.splitlines()[0] == "version reviews-v1 of model reviews started in app demo"
    watched = [line for line in trained.splitlines() if line.startswith("reviews-v1: MODEL-")]
    assert any(re.fullmatch(r"reviews-v1: MODEL-TRAINING \d+%( loss [\d.]+)?", w) for w in watched)
    assert f"reviews-v1: MODEL-TRAINED: {status.description}" in trained
    assert f"train: accuracy {on_train.accuracy:.4f}, macro F1 {on_train.macro_f1:.4f}" in trained

    # the log, printed and saved
    printed = shell.ok(home, "logs", "reviews-v1", "--app", "demo", "--save", "reviews-v1.log")
    assert "INFO textclf_trainer.runner: baseline test" not in printed  # no test split here
    assert "INFO textclf_trainer.runner: baseline train: accuracy" in printed
    assert (tmp_path / "reviews-v1.log").read_text() == printed
    missing = shell.textclf(home, "logs", "reviews-v9", "--app", "demo")
    assert missing.returncode == 1
    assert "reviews-v9" in missing.stderr

    # evaluate later on both datasets; what --wait prints is the stored summary
    for dataset, eval_id in (("test-dataset", "two"), ("text-dataset", "one")):
        waited = shell.ok(
            home, "evaluate", "reviews", "--app", "demo", "--dataset", dataset, "--id", eval_id,
            "--wait",
        )  # fmt: skip
        summary = model.get_eval_by_id(eval_id).summary
        assert summary is not None
        assert f"on {dataset}" in waited.splitlines()[0]
        assert f"accuracy            {summary.accuracy:.4f}" in waited
        assert f"macro_avg_roc_auc   {summary.macro_avg_roc_auc:.4f}" in waited
    unknown = shell.textclf(home, "evaluate", "reviews", "--app", "demo", "--dataset", "nowhere")
    assert unknown.returncode != 0
    assert "nowhere" in unknown.stderr

    # compare: the tables printed and written, the plots drawn
    compared = shell.ok(
        home, "compare", "--app", "demo", "--model", "reviews", "--dataset", "text-dataset",
        "--dataset", "test-dataset", "-o", "out",
    )  # fmt: skip
    folder = tmp_path / "out" / "conf-0.5"
    with (folder / "concepts_summary.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["Dataset"], r["Concept"]) for r in rows} == {
        (d, c) for d in ("text-dataset", "test-dataset") for c in ("neg", "pos")
    }
    on_test = {r["Concept"]: r for r in rows if r["Dataset"] == "test-dataset"}
    with (IMDB / "test.csv").open(newline="") as handle:
        truth = [r["concepts"] for r in csv.DictReader(handle)]
    assert int(on_test["pos"]["Total Labeled"]) == truth.count("pos")
    printed_rows = [line.split() for line in compared.splitlines()]
    for row in rows:  # each CSV row is a printed row: concept, counts, dataset (then model)
        counts = [row[c] for c in ("Total Labeled", "Total Predicted", "True Positives")]
        assert [row["Concept"], *counts, row["Dataset"]] in (
            [line[0], *line[2:5], line[-2]] for line in printed_rows if len(line) == 12
        ), (row, compared)
    for image in ("roc.png", "pr.png", "confusion_matrix.png"):
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = shell.textclf(
        home, "compare", "--app", "demo", "--model", "reviews", "--dataset", "test-dataset",
        "-o", "out",
    )  # fmt: skip
    assert again.returncode == 2
    assert "overwrite" in again.stderr
