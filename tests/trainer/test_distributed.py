"""More than one rank: the real entry point with ``TEXTCLF_NPROC_PER_NODE=2`` launches two ranks with
torch's elastic launcher, which train one model with DistributedDataParallel over gloo on the CPU.

The same run on one process with twice the per-device batch takes the same optimizer steps over the
same examples, so its metrics must agree within noise; only rank 0 reports and publishes; a user
error keeps its exit code through the launcher (the Job's failure policy keys on it).
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

from textclf.api import channels, codes
from textclf_trainer import distributed

from . import runs

ROWS = 400
EPOCHS = 2
GLOBAL_BATCH = 32
STEPS = -(-ROWS // GLOBAL_BATCH) * EPOCHS


def trainer(tmp_path: pathlib.Path, name: str, ranks: int, **options: Any) -> dict[str, Any]:
    """Run ``python -m textclf_trainer`` on ``ranks`` ranks; exit code, result, progress, stderr."""
    folder = tmp_path / name
    folder.mkdir()
    spec = runs.write_run(folder / "run.yaml", runs.run_document(**options))
    message = folder / "termination-log"
    done = subprocess.run(
        [sys.executable, "-m", "textclf_trainer", str(spec)],
        env=runs.trainer_env(message, **{distributed.NPROC_ENV: str(ranks)}),
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {
        "exit": done.returncode,
        "stderr": done.stderr,
        "result": (
            channels.Result.from_termination_message(message.read_text())
            if message.exists()
            else None
        ),
        "progress": [line["progress"] for line in lines if "progress" in line],
        "results": [line["result"] for line in lines if "result" in line],
    }


def test_two_ranks_train_like_one_process(tmp_path: pathlib.Path) -> None:
    train = runs.write_subset(runs.dataset_file("sst2", "train"), tmp_path / "train.csv", ROWS)
    test = runs.write_subset(runs.dataset_file("sst2", "validation"), tmp_path / "test.csv", 300)

    def options(output: str, per_device: int) -> dict[str, Any]:
        return {
            "template": "hf-advanced",
            "train": train,
            "test": test,
            "output": tmp_path / output,
            "params": {
                "max_length": 64,
                "baseline": False,
                "trainer_config": {
                    "num_train_epochs": EPOCHS,
                    "per_device_train_batch_size": per_device,
                    "learning_rate": 1e-4,
                    "train_sampling_strategy": "random",
                },
            },
            **runs.SST2,
        }

    one = trainer(tmp_path, "one", 1, **options("one-out", GLOBAL_BATCH))
    two = trainer(tmp_path, "two", 2, **options("two-out", GLOBAL_BATCH // 2))
    for arm in (one, two):
        assert arm["exit"] == 0, arm["stderr"][-4000:]
        assert arm["result"] is not None
        assert arm["result"].code == codes.StatusCode.TRAINED
    assert "training on 2 ranks" in two["stderr"]
    # DDP, not two independent runs: half the per-device batch, the same number of optimizer steps
    for arm in (one, two):
        assert {p["totalSteps"] for p in arm["progress"] if "totalSteps" in p} == {STEPS}
    # rank 0 alone reports and publishes
    assert len(two["results"]) == 1
    assert [p["phase"] for p in two["progress"]].count("done") == 1
    assert (tmp_path / "two-out" / "SHA256SUMS").exists()
    a, b = one["result"].metrics["test"].accuracy, two["result"].metrics["test"].accuracy
    assert min(a, b) >= 0.65  # both learnt (chance is 0.5)
    assert abs(a - b) <= 0.05, (
        a,
        b,
    )  # the same training, up to batch composition and reduction order


def test_user_error_keeps_its_exit_code_through_the_launcher(tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n")
    arm = trainer(
        tmp_path,
        "empty",
        2,
        template="hf-advanced",
        train=empty,
        output=tmp_path / "out",
        **runs.SST2,
    )
    assert arm["exit"] == codes.ExitCode.NO_DATA, arm["stderr"][-3000:]
    assert arm["result"] is not None
    assert arm["result"].detail_code == codes.DetailCode.NO_DATA


def test_the_pods_exit_code_from_the_ranks() -> None:
    assert distributed.exit_code({0: 16, 1: -15}) == 16  # rank 0's own
    assert distributed.exit_code({0: -15, 1: 11}) == 11  # a user error, rank 0 stopped first
    assert distributed.exit_code({1: 20}) == 20
    assert distributed.exit_code({0: -9, 1: -9}) == codes.ExitCode.INFRASTRUCTURE  # killed
