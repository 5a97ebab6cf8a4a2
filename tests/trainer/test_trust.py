"""Real runs and the numbers that put a run in context: the data report on clean data, the baseline
checked against an independent fit, and a degenerate model caught by the single-class warning.

The leaky case (the Clarifai IMDB example, 71 of 71 test rows in train) runs end to end in
``test_cli`` and, with ``fail_on_leakage``, in ``test_failures``.
"""

from __future__ import annotations

import csv
import json
import pathlib

import pytest
from sklearn import feature_extraction, linear_model
from sklearn import metrics as skm

from textclf.api import conditions, results
from textclf_trainer import datareport

from . import runs

pytestmark = pytest.mark.training


def rows(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_clean_data_reports_no_leakage(sst2_embedding_logreg: runs.Trained) -> None:
    # SST-2: the first 2,000 training rows against the validation set share no normalised text.
    trained = sst2_embedding_logreg
    result = trained.outcome.result
    assert result.data_report is not None
    assert result.data_report.leaked_test_rows == 0
    assert (result.data_report.train_rows, result.data_report.test_rows) == (2000, 872)
    assert conditions.DATA_LEAKAGE not in [w.type for w in result.warnings]
    assert conditions.SINGLE_CLASS not in [w.type for w in result.warnings]
    report = json.loads((trained.artifact / datareport.FILE).read_text())
    assert report["leakage"]["test"]["rows"] == 0
    assert report["lengthUnit"] == f"tokens of {runs.BACKBONE}"
    train = rows(trained.data["train"])
    keys = [datareport.normalise(r["text"]) for r in train]
    assert report["splits"]["train"]["duplicates"]["rows"] == len(keys) - len(set(keys))
    lengths = report["splits"]["test"]["length"]
    assert lengths["min"] <= lengths["p50"] <= lengths["p90"] <= lengths["p99"] <= lengths["max"]
    assert report["splits"]["test"]["classBalance"]["positive"]["rows"] == sum(
        r["label"] == "positive" for r in rows(trained.data["test"])
    )
    card = (trained.artifact / "README.md").read_text()
    assert "| rows also in train | - | 0 (0.0%) |" in card
    assert "| Lift, macro F1 |" in card


def test_baseline_matches_an_independent_fit(sst2_embedding_logreg: runs.Trained) -> None:
    trained = sst2_embedding_logreg
    train, test = rows(trained.data["train"]), rows(trained.data["test"])
    vectorizer = feature_extraction.text.TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, max_features=200_000
    )
    model = linear_model.LogisticRegression(C=1.0, max_iter=1000, random_state=42)
    model.fit(vectorizer.fit_transform([r["text"] for r in train]), [r["label"] for r in train])
    predicted = model.predict(vectorizer.transform([r["text"] for r in test]))
    truth = [r["label"] for r in test]
    reported = trained.metrics_json["baseline"]["splits"]["test"]
    assert reported["examples"] == len(test)
    assert abs(reported["accuracy"] - skm.accuracy_score(truth, predicted)) < 1e-6
    assert abs(reported["macro_f1"] - skm.f1_score(truth, predicted, average="macro")) < 1e-6
    # The same numbers in the Result, and the lift computed from it by the API's function.
    result = trained.outcome.result
    assert result.baseline["test"].accuracy == reported["accuracy"]
    lift = results.lift(result)
    assert lift is not None
    assert lift.test is not None
    assert trained.metrics_json["lift"] == lift.to_wire()
    model_f1 = trained.metrics_json["splits"]["test"]["macro_f1"]
    assert lift.test.macro_f1_points == round(100 * (model_f1 - reported["macro_f1"]), 2)
    below = conditions.BELOW_BASELINE in [w.type for w in result.warnings]
    assert below == (model_f1 <= reported["macro_f1"])


def test_a_one_class_model_is_flagged(
    tmp_path: pathlib.Path, sst2: dict[str, pathlib.Path]
) -> None:
    # 60 positive and 4 negative reviews and a logistic regression regularised to its intercept:
    # the model predicts the majority class for every text.
    source = rows(sst2["train"])
    picked = [r for r in source if r["label"] == "positive"][:60]
    picked += [r for r in source if r["label"] == "negative"][:4]
    data = {"train": tmp_path / "train.csv", "test": tmp_path / "test.csv"}
    with data["train"].open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(picked)
    runs.write_subset(sst2["test"], data["test"], 40)
    trained = runs.train(
        tmp_path,
        data,
        "embedding-logreg",
        params={"max_length": 32, "logreg": {"C": 1e-4}, "baseline": False},
        **runs.SST2,
    )
    result = trained.outcome.result
    (warning,) = [w for w in result.warnings if w.type == conditions.SINGLE_CLASS]
    assert warning.message.startswith(
        "The model predicts 'positive' for 40 of 40 test texts (100.0%)"
    )
    assert result.baseline == {}  # params.baseline false: no baseline, no lift, no BelowBaseline
    assert results.lift(result) is None
    assert trained.metrics_json["baseline"] is None
    assert trained.metrics_json["splits"]["test"]["top_prediction"]["share"] == 1.0
