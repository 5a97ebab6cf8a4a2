"""Preemption: a trainer killed mid-training leaves a checkpoint on the run's volume, and the next
attempt resumes from it, says so in its progress and result, and finishes.

The real entry point runs in a subprocess, as in the Pod; SIGKILL is what a node does to a preempted
Pod after its grace period. The second attempt is the same run file, as the Job's next Pod is.
"""

from __future__ import annotations

import json
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any

from textclf.api import channels, codes

from . import runs

ROWS = 600
EPOCHS = 2
BATCH = 32
STEPS_PER_EPOCH = -(-ROWS // BATCH)


def start(spec: pathlib.Path, message: pathlib.Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "textclf_trainer", str(spec)],
        env=runs.trainer_env(message),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def progress_of(stdout: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [e["progress"] for e in events if "progress" in e]


def test_killed_trainer_resumes_from_its_checkpoint(tmp_path: pathlib.Path) -> None:
    train = runs.write_subset(runs.dataset_file("sst2", "train"), tmp_path / "train.csv", ROWS)
    test = runs.write_subset(runs.dataset_file("sst2", "validation"), tmp_path / "test.csv", 200)
    output = tmp_path / "volume" / "models" / "sst2"
    spec = runs.write_run(
        tmp_path / "run.yaml",
        {
            "apiVersion": "textclf.io/v1alpha1",
            "kind": "TrainingRun",
            "metadata": {"name": "sst2-resume"},
            "spec": runs.run_document(
                template="hf-advanced",
                train=train,
                test=test,
                output=output,
                params={
                    "max_length": 64,
                    "baseline": False,
                    "trainer_config": {
                        "num_train_epochs": EPOCHS,
                        "per_device_train_batch_size": BATCH,
                        "learning_rate": 1e-4,
                    },
                },
                **runs.SST2,
            ),
        },
    )
    store = output.parent / f".{output.name}.checkpoints"
    message = tmp_path / "termination-log"

    first = start(spec, message)
    deadline = time.monotonic() + 600
    while not list(store.glob("checkpoint-*/trainer_state.json")):
        assert first.poll() is None, f"exited before a checkpoint: {first.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, "no checkpoint within 600 s"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.communicate()
    assert not message.exists()  # killed: no result
    assert not output.exists()  # and nothing published
    saved = sorted(store.glob("checkpoint-*"))
    assert [p.name for p in saved] == [f"checkpoint-{STEPS_PER_EPOCH}"]

    second = start(spec, message)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == codes.ExitCode.OK, stderr[-3000:]
    result = channels.Result.from_termination_message(message.read_text())
    assert result.code == codes.StatusCode.TRAINED
    assert f"resumed from the checkpoint at step {STEPS_PER_EPOCH}" in result.message
    events = progress_of(stdout)
    training = [e for e in events if "step" in e]  # the step reports, after the resume
    assert training, stdout[-2000:]
    assert all(e.get("resumedFromStep") == STEPS_PER_EPOCH for e in training)
    # the second attempt trained only the remaining epochs
    assert min(e["step"] for e in training) >= STEPS_PER_EPOCH
    assert max(e["step"] for e in training) == STEPS_PER_EPOCH * EPOCHS
    assert result.metrics["test"].accuracy >= 0.65  # learnt: chance is 0.5
    assert not store.exists()  # checkpoints are removed once the artifact is published
    assert (output / "SHA256SUMS").exists()


def test_another_runs_checkpoints_are_not_resumed(tmp_path: pathlib.Path) -> None:
    """A checkpoint folder claimed by another run (or the same name with another spec) is cleared."""
    from textclf_trainer import checkpoints, specs  # noqa: PLC0415

    def loaded(name: str, lr: float) -> specs.LoadedRun:
        document = {
            "metadata": {"name": name},
            "spec": runs.run_document(
                template="hf-advanced",
                train=tmp_path / "train.csv",
                output=tmp_path / "out",
                params={"trainer_config": {"learning_rate": lr}},
            ),
        }
        return specs.parse(document, default_name=name, base_dir=tmp_path)

    store = checkpoints.open_store(loaded("a", 1e-4), tmp_path / "scratch")
    assert store.persistent
    (store.folder / "checkpoint-5").mkdir()
    (store.folder / "checkpoint-5" / "trainer_state.json").write_text("{}")
    (store.folder / "checkpoint-9").mkdir()  # incomplete: no trainer_state.json yet
    again = checkpoints.open_store(loaded("a", 1e-4), tmp_path / "scratch")
    assert again.latest() == store.folder / "checkpoint-5"
    assert checkpoints.open_store(loaded("a", 2e-4), tmp_path / "scratch").latest() is None
    assert checkpoints.open_store(loaded("b", 2e-4), tmp_path / "scratch").latest() is None
