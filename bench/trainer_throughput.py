"""Benchmark: hf-advanced against the strongest plain Hugging Face Trainer a user gets from the docs.

The peer (``peer.plain_trainer``) uses dynamic padding and length grouping (``group_by_length``), the
same backbone, rows, learning rate, batch size, epochs and seed as hf-advanced, which runs through
the trainer itself (``runner.run``) with its own defaults otherwise. Both arms run back to back in
one process on one machine; reported: training samples/s, real (unpadded) tokens/s, their ratio, and
test accuracy of each.

    python bench/trainer_throughput.py [--dataset sst2] [--train-rows 2000] [--epochs 3] \
        [--out bench/results]

Writes ``trainer_throughput.json`` and ``trainer_throughput.md`` under ``--out`` and prints the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
import tempfile
from typing import Any

import peer
import template_accuracy

from textclf_trainer import entrypoint


def markdown(result: dict[str, Any]) -> str:
    b, o = result["peer"], result["hf_advanced"]
    m = result["machine"]
    return "\n".join(
        [
            f"Run {result['date']} on {m['device']}, {m['cpu']} ({m['cores']} cores), torch "
            f"{m['torch']}, transformers {m['transformers']}; {result['dataset']}, "
            f"{result['train_rows']} training rows, {result['test_rows']} test rows, "
            f"{result['epochs']} epoch(s), lr {result['learning_rate']}, batch "
            f"{result['batch_size']}, all-MiniLM-L6-v2.",
            "",
            "| | train samples/s | train s | test accuracy |",
            "|---|---|---|---|",
            f"| plain Trainer (dynamic padding, group_by_length) | "
            f"{b['train_samples_per_second']:.1f} | {b['train_seconds']:.1f} | {b['accuracy']:.4f} |",
            f"| hf-advanced | {o['train_samples_per_second']:.1f} | {o['train_seconds']:.1f} | "
            f"{o['accuracy']:.4f} |",
            f"| ratio (hf-advanced / peer) | **{result['speedup']:.2f}x** | | "
            f"{o['accuracy'] - b['accuracy']:+.4f} |",
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--train-rows", type=int, default=2000)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=pathlib.Path, default=peer.REPO / "bench" / "results")
    args = parser.parse_args()
    entrypoint.quiet_libraries()
    train, test = peer.load(args.dataset, args.train_rows, args.test_rows, args.seed)
    settings = peer.PeerSettings(
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        group_by_length=True,
        seed=args.seed,
    )
    with tempfile.TemporaryDirectory(prefix="textclf-bench-") as scratch:
        work = pathlib.Path(scratch)
        base = peer.plain_trainer(train, test, settings, work)
        mine = template_accuracy.template_arm(
            "hf-advanced",
            train_csv=peer.write_csv(work / "train.csv", train),
            test_csv=peer.write_csv(work / "test.csv", test),
            separator=None,
            overrides=[
                f"trainer_config.learning_rate={args.learning_rate}",
                f"trainer_config.per_device_train_batch_size={args.batch_size}",
                f"trainer_config.num_train_epochs={args.epochs}",
            ],
            seed=args.seed,
            work=work,
        )
    mine["train_samples_per_second"] = len(train) * args.epochs / mine["train_seconds"]
    result = {
        "date": datetime.date.today().isoformat(),
        "machine": peer.machine(),
        "dataset": args.dataset,
        "train_rows": len(train),
        "test_rows": len(test),
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
        "peer": base,
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
