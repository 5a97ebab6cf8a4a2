"""The hosted platform's text-classifier walk-through, step by step, on the SDK's embedded backend:
app, datasets checked on upload, model type, templates and params, train and watch, saved logs,
predict, evaluate on the train and the test dataset later. Real training (embedding-logreg on the
packaged MiniLM encoder, the bundled IMDB sample) in a real child process; the evaluation's numbers
are checked against an independent count from the model's own predictions."""

from __future__ import annotations

import csv
import pathlib
import time

import pytest
import yaml
from PIL import Image
from sklearn import metrics as skm

import textclf
from tests.trainer import runs

pytestmark = pytest.mark.training

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"


def _rows(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write(path: pathlib.Path, header: list[str], rows: list[list[str]]) -> pathlib.Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_hosted_walkthrough_on_the_local_backend(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    client = textclf.Client(local=True, home=tmp_path / "home")

    # an app
    app = client.create_app("demo")
    assert [a.id for a in client.list_apps()] == ["demo"]
    with pytest.raises(ValueError, match="app 'demo' already exists"):
        client.create_app("demo")
    with pytest.raises(ValueError, match="app id 'Demo App'"):
        client.create_app("Demo App")

    # a dataset, checked on upload: bad rows named by number, a bad header refused, nothing kept
    train_rows = _rows(IMDB / "train.csv")
    ds = app.create_dataset("text-dataset")
    with pytest.raises(ValueError, match="header review,sentiment has neither input,concepts or"):
        ds.upload_from_csv(_write(tmp_path / "bad.csv", ["review", "sentiment"], [["a", "pos"]]))
    assert ds.info["uploaded"] is False
    flawed = [[r["input"], r["concepts"]] for r in train_rows[:50]]
    flawed[6] = ["", "pos"]  # row 7: no text
    flawed[19] = ["fine", "pos", "extra"]  # row 20: a field too many
    report = ds.upload_from_csv(_write(tmp_path / "flawed.csv", ["input", "concepts"], flawed))
    assert (report.rows, report.valid) == (50, 48)
    assert sorted(n for rows in report.bad_rows.values() for n in rows) == [7, 20]
    assert "rows 7" in str(report)
    # the real file: its counts are the file's
    report = ds.upload_from_csv(IMDB / "train.csv")
    assert report.rows == len(train_rows) == report.valid
    counted: dict[str, int] = {}
    for row in train_rows:
        counted[row["concepts"]] = counted.get(row["concepts"], 0) + 1
    assert report.concepts == counted
    assert (report.text_column, report.label_column) == ("input", "concepts")
    # a test dataset uploaded in the other usual layout (text,label)
    test_rows = _rows(IMDB / "test.csv")
    test_file = _write(
        tmp_path / "test.csv", ["text", "label"], [[r["input"], r["concepts"]] for r in test_rows]
    )
    test_ds = app.create_dataset("test-dataset")
    assert test_ds.upload_from_csv(test_file).label_column == "label"

    # a model of the trainable type, its templates and params
    assert app.list_trainable_model_types() == ["text-classifier"]
    with pytest.raises(ValueError, match="model type 'visual-classifier' is not trainable"):
        app.create_model("pictures", model_type_id="visual-classifier")
    model = app.create_model("reviews", model_type_id="text-classifier")
    assert [m.id for m in app.list_models()] == ["reviews"]
    assert {"embedding-logreg", "hf-advanced", "hf-lora"} <= set(model.list_training_templates())
    params = model.get_params(template="embedding-logreg", save_to="params.yaml")
    assert {"dataset_id", "concepts", "template", "logreg"} <= set(params)
    assert yaml.safe_load(pathlib.Path("params.yaml").read_text()) == params
    with pytest.raises(ValueError, match=r"unknown key.*'no_such_knob'"):
        model.update_params(template="embedding-logreg", no_such_knob=1)
    with pytest.raises(ValueError, match="dataset 'nowhere' not found"):
        model.update_params(dataset_id="nowhere")
    params = model.update_params(
        template="embedding-logreg",
        dataset_id="text-dataset",
        concepts=["neg", "pos"],
        model_config={"pretrained_model_name_or_path": runs.BACKBONE},
        max_length=128,
    )
    assert params["dataset_id"] == "text-dataset"

    # train and watch; the log saved beside us
    version = model.train()
    assert version == "reviews-v1"
    assert model.training_status(version).code in {"MODEL-QUEUED-FOR-TRAINING", "MODEL-TRAINING"}
    # polled while it trains, as on the hosted platform: the trainer's progress is in the status
    seen = model.training_status(version)
    while seen.code == "MODEL-QUEUED-FOR-TRAINING" or (
        seen.code == "MODEL-TRAINING" and seen.progress is None
    ):
        time.sleep(0.1)
        seen = model.training_status(version)
    assert seen.code == "MODEL-TRAINING", seen.description
    assert seen.progress is not None
    assert seen.progress.percent < 100
    finished = model.wait_for_training(version, timeout=600)
    assert finished.code == "MODEL-TRAINED", finished.description
    status = model.training_status(version, training_logs=True)
    assert status.progress is not None
    assert status.progress.percent == 100
    assert "embedding-logreg" in pathlib.Path(f"{version}.log").read_text()

    # predict: every concept, highest first
    texts = [r["input"] for r in test_rows]
    predictions = model.predict(texts)
    for concepts in predictions:
        assert sorted(c.id for c in concepts) == ["neg", "pos"]
        assert concepts[0].value >= concepts[1].value
        assert sum(c.value for c in concepts) == pytest.approx(1.0, abs=1e-5)
    assert [len(p) for p in model.predict(texts[:3], max_concepts=1)] == [1, 1, 1]

    # evaluate later, on the test and the train dataset; asynchronous
    started = model.evaluate(dataset_id="test-dataset", eval_id="two")
    assert started.status in {"MODEL-QUEUED-FOR-EVALUATION", "MODEL-EVALUATING"}
    model.evaluate(dataset_id="text-dataset", eval_id="one")
    two = model.wait_for_evaluation("two", timeout=300)
    assert two.status == "MODEL-EVALUATED", two.description
    assert model.wait_for_evaluation("one", timeout=300).status == "MODEL-EVALUATED"
    assert [e.id for e in model.list_evaluations()] == ["one", "two"]
    summary = model.get_eval_by_id("two").summary
    assert summary is not None
    # the same numbers from the model's own predictions, counted here
    truth = [r["concepts"] for r in test_rows]
    guessed = [p[0].id for p in predictions]
    pos = [next(c.value for c in p if c.id == "pos") for p in predictions]
    assert summary.examples == len(test_rows)
    assert summary.accuracy == pytest.approx(skm.accuracy_score(truth, guessed), abs=1e-4)
    assert summary.macro_avg_f1_score == pytest.approx(
        skm.f1_score(truth, guessed, average="macro"), abs=1e-4
    )
    assert summary.macro_avg_precision == pytest.approx(
        skm.precision_score(truth, guessed, average="macro"), abs=1e-4
    )
    assert summary.macro_avg_recall == pytest.approx(
        skm.recall_score(truth, guessed, average="macro"), abs=1e-4
    )
    auc = skm.roc_auc_score([t == "pos" for t in truth], pos)
    assert summary.macro_avg_roc_auc == pytest.approx(auc, abs=1e-4)  # both concepts: the same AUC
    assert summary.macro_std_roc_auc == pytest.approx(0.0, abs=1e-4)

    # compare the evaluations on train and test: tables and plots from the stored predictions
    compare = textclf.EvalResultCompare(models=[model], datasets=[ds, test_ds])
    per_concept, totals = compare.detailed_summary(confidence_threshold=0.5)
    on_test = per_concept[per_concept["Dataset"] == "test-dataset"].set_index("Concept")
    for name in ("neg", "pos"):
        labeled = sum(t == name for t in truth)
        scored = [next(c.value for c in p if c.id == name) for p in predictions]
        hits = sum(s >= 0.5 and t == name for s, t in zip(scored, truth, strict=True))
        assert on_test.loc[name, "Total Labeled"] == labeled
        assert on_test.loc[name, "Total Predicted"] == sum(s >= 0.5 for s in scored)
        assert on_test.loc[name, "True Positives"] == hits
        assert on_test.loc[name, "False Negatives"] == labeled - hits
        assert on_test.loc[name, "Recall"] == pytest.approx(hits / labeled)
        assert on_test.loc[name, "ROC AUC"] == pytest.approx(auc, abs=1e-4)
    assert list(totals["Dataset"]) == ["text-dataset", "test-dataset"]
    assert totals.set_index("Dataset").loc["test-dataset", "Total Labeled"] == len(test_rows)
    written = compare.all(tmp_path / "compare", confidence_threshold=0.5)
    assert written == tmp_path / "compare" / "conf-0.5"
    saved = list(csv.DictReader((written / "concepts_summary.csv").open()))
    assert len(saved) == 4
    assert {(r["Dataset"], r["Concept"], r["True Positives"]) for r in saved} >= {
        ("test-dataset", "pos", str(on_test.loc["pos", "True Positives"]))
    }
    assert len(list(csv.DictReader((written / "total_summary.csv").open()))) == 2
    for image, width in (("roc.png", 640), ("pr.png", 640), ("confusion_matrix.png", 1280)):
        with Image.open(written / image) as png:
            png.load()
            assert png.size == (width, 480)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        compare.all(tmp_path / "compare")
    compare.all(tmp_path / "compare", overwrite=True)
    other = app.create_dataset("other")
    other.upload_from_csv(test_file)
    with pytest.raises(ValueError, match="no finished evaluation on dataset other"):
        textclf.EvalResultCompare(models=[model], datasets=[other])

    # another client on the same home sees the same state
    again = textclf.Client(local=True, home=tmp_path / "home").app("demo").model("reviews")
    assert again.training_status(version).code == "MODEL-TRAINED"
    assert again.get_eval_by_id("one").summary is not None
    with pytest.raises(LookupError, match="evaluation 'three' not found"):
        again.get_eval_by_id("three")
