"""The pure parts of the training recipes: the automatic validation split, the weighted multi-label
loss, early stopping and the checkpointing defaults of the Trainer templates."""

from __future__ import annotations

import pathlib

import pytest
import torch

from textclf_trainer import checkpoints, examples, progress
from textclf_trainer.templates import base, hf_trainer


@pytest.mark.parametrize(
    ("rows", "template", "fraction"),
    [
        (2000, "hf-advanced", 0.0),  # small data is worth more in training
        (4000, "hf-advanced", 0.1),
        (40000, "hf-lora", 0.05),  # at most 2,000 rows held out
        (40000, "embedding-logreg", 0.0),  # no checkpoints to choose between
    ],
)
def test_automatic_validation(rows: int, template: str, fraction: float) -> None:
    assert examples.automatic_validation(rows, template) == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("rows", "template", "fraction"),
    [
        (999, "embedding-logreg", 0.0),
        (1000, "embedding-logreg", 0.1),  # multi-label thresholds are tuned on it
        (2000, "hf-advanced", 0.1),
        (40000, "hf-lora", 0.05),
    ],
)
def test_automatic_validation_for_tuned_thresholds(
    rows: int, template: str, fraction: float
) -> None:
    assert examples.automatic_validation(rows, template, tunes_thresholds=True) == pytest.approx(
        fraction
    )


def job(
    tmp_path: pathlib.Path,
    labels: list[tuple[str, ...]],
    *,
    validation: bool = False,
    **params: object,
) -> base.TrainJob:
    data = examples.Examples(tuple(f"text {i}" for i in range(len(labels))), tuple(labels))
    log = progress.Log()
    return base.TrainJob(
        template="hf-advanced",
        params={"trainer_config": {}, **params},
        backbone="unused",
        concepts=("a", "b", "c"),
        multi_label=True,
        train=data,
        validation=data if validation else None,
        model_dir=tmp_path / "artifact",
        work_dir=tmp_path,
        checkpoints=checkpoints.Store(tmp_path / "checkpoints", persistent=False),
        tracker=progress.Tracker(log),
        log=log,
    )


def test_multi_label_loss_weighs_rare_concepts(tmp_path: pathlib.Path) -> None:
    # a: 2 of 4 rows (weight 1), b: 1 of 4 (weight 3), c: never (4 negatives over at least 1)
    labels: list[tuple[str, ...]] = [("a",), ("a", "b"), (), ()]
    loss = hf_trainer.multi_label_loss(job(tmp_path, labels))
    assert loss is not None
    logits = torch.zeros(4, 3)
    targets = torch.tensor([[1.0, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]])
    got = loss({"logits": logits}, targets)
    weights = torch.tensor([1.0, 3.0, 4.0])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, targets, pos_weight=weights
    )
    assert float(got) == pytest.approx(float(expected))
    # across gradient accumulation: a mean over all items of the accumulated batches
    half = loss({"logits": logits}, targets, num_items_in_batch=24)
    assert float(half) == pytest.approx(float(expected) / 2)


def test_plain_bce_on_request(tmp_path: pathlib.Path) -> None:
    assert hf_trainer.multi_label_loss(job(tmp_path, [("a",)], multi_label_pos_weight=None)) is None


def test_checkpoints_each_epoch_and_early_stopping_with_validation(tmp_path: pathlib.Path) -> None:
    without = job(tmp_path, [("a",), ("b",)])
    args = hf_trainer.training_arguments(without)
    assert args.save_strategy == "epoch"
    assert not args.save_only_model  # optimizer state too: resumable
    assert args.output_dir == str(without.checkpoints.folder)
    assert hf_trainer.early_stopping(without, args) == []
    with_validation = job(tmp_path, [("a",), ("b",)], validation=True)
    args = hf_trainer.training_arguments(with_validation)
    assert args.load_best_model_at_end
    (callback,) = hf_trainer.early_stopping(with_validation, args)
    assert callback.early_stopping_patience == 2
    patient = job(tmp_path, [("a",)], validation=True, early_stopping_patience=0)
    assert hf_trainer.early_stopping(patient, hf_trainer.training_arguments(patient)) == []


def test_learning_rate_by_backbone_size() -> None:
    small = torch.nn.Linear(4000, 4000, device="meta")  # 16M parameters, like MiniLM's 22M
    base_size = torch.nn.Linear(11000, 11000, device="meta")  # 121M, like BERT-base's 110M
    assert hf_trainer.default_learning_rate(small) == 2e-4
    assert hf_trainer.default_learning_rate(base_size) == 5e-5
