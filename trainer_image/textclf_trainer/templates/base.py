"""What every template's ``train`` receives: the checked params, the data and where to write the model."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

from textclf_trainer import checkpoints, examples, progress


@dataclasses.dataclass(frozen=True)
class TrainJob:
    template: str
    params: dict[str, Any]  # effective params: defaults merged and schema-checked
    backbone: str  # resolved location of the pretrained backbone
    concepts: tuple[str, ...]
    multi_label: bool
    train: examples.Examples
    validation: examples.Examples | None
    model_dir: pathlib.Path  # the template saves the model (and tokenizer) here
    work_dir: pathlib.Path  # scratch space
    checkpoints: checkpoints.Store  # where a template that checkpoints saves, and resumes from
    tracker: progress.Tracker
    log: progress.Log

    @property
    def seed(self) -> int:
        return int(self.params.get("seed", 42))

    @property
    def max_length(self) -> int:
        return int(self.params.get("max_length", 128))
