"""Benchmark: test accuracy of each template per shared dataset, beside a plain Hugging Face Trainer.

For every dataset the same seeded sample of training rows and the same test rows go to each arm:

- ``peer``: a plain ``transformers.Trainer`` with the docs' usual settings (``peer.plain_trainer``);
- ``hf-advanced`` / ``hf-lora`` / ``embedding-logreg``: the template through the trainer itself
  (``runner.run``) with its catalogue defaults, so what is measured is what a user gets;
- multi-label data (GoEmotions) has no single-label peer; its reference is the label prior (every
  text gets the training set's most frequent concept).

``--set PATH=VALUE`` overrides a template param (``trainer_config.learning_rate=1e-4``), which is how
the defaults were chosen. Each result carries its wall time, so arms are compared at equal time.

    python bench/template_accuracy.py --datasets sst2,trec --arms peer,hf-advanced \
        [--train-rows 2000] [--test-rows 1000] [--seed 42] [--set K=V ...] [--out FILE.json]

Appends one JSON line per (dataset, arm) to ``--out`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import pathlib
import sys
import tempfile
import time
from typing import Any

import peer
from sklearn import metrics as skm

from textclf_trainer import entrypoint, progress, runner, specs

MULTI_LABEL = {"goemotions": "|"}
"""Datasets whose label column holds several concepts, and their separator."""


def _assign(params: dict[str, Any], dotted: str, raw: str) -> None:
    *parents, leaf = dotted.split(".")
    node = params
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = json.loads(raw) if raw[:1] in "-0123456789[{tfn" else raw


def template_arm(
    template: str,
    *,
    train_csv: pathlib.Path,
    test_csv: pathlib.Path,
    separator: str | None,
    overrides: list[str],
    seed: int,
    work: pathlib.Path,
    validation_split: float | None = None,
) -> dict[str, Any]:
    """One run of ``template`` through ``runner.run``; its test metrics and timings."""
    params: dict[str, Any] = {
        "seed": seed,
        "baseline": False,
        "model_config": {"pretrained_model_name_or_path": peer.BACKBONE},
    }
    for item in overrides:
        key, _, value = item.partition("=")
        _assign(params, key, value)
    dataset: dict[str, Any] = {
        "train": {"uri": train_csv.as_uri()},
        "test": {"uri": test_csv.as_uri()},
        "textColumn": "text",
        "labelColumn": "label",
    }
    if separator:
        dataset["labelSeparator"] = separator
    if validation_split is not None:
        dataset["validationSplit"] = validation_split
    out = work / f"artifact-{template}"
    document = {
        "modelRef": {"name": "bench"},
        "template": template,
        "params": params,
        "dataset": dataset,
        "output": {"uri": out.as_uri()},
    }
    started = time.perf_counter()
    outcome = runner.run(
        specs.parse(document, default_name="bench", base_dir=work), reporter=progress.Log()
    )
    total = time.perf_counter() - started
    records = [json.loads(line) for line in (out / "training_log.jsonl").open()]
    train_seconds = next(
        (r["trainer"]["train_runtime"] for r in records if "train_runtime" in r.get("trainer", {})),
        None,
    )
    logreg = next((r["logreg"] for r in records if "logreg" in r), None)  # embedding-logreg
    test = outcome.metrics.test
    assert test is not None
    full = json.loads((out / "metrics.json").read_text())["splits"]["test"]
    return {
        "params": params,
        "threshold": full.get("threshold"),
        "micro_f1": full.get("micro_f1"),
        "train_seconds": train_seconds,
        "end_to_end_seconds": total,
        "logreg": logreg and {k: v for k, v in logreg.items() if k != "n_iter"},
        "accuracy": test.accuracy,
        "macro_f1": test.macro_f1,
        "macro_roc_auc": test.macro_roc_auc,
    }


def label_prior(train: peer.Split, test: peer.Split, separator: str) -> dict[str, Any]:
    """Every text gets the most frequent training concept: the floor a multi-label model must clear."""
    counts: dict[str, int] = {}
    for row in train.labels:
        for concept in row.split(separator):
            counts[concept] = counts.get(concept, 0) + 1
    concepts = sorted(counts)
    top = max(counts, key=lambda c: counts[c])
    truth = [[int(c in row.split(separator)) for c in concepts] for row in test.labels]
    guess = [[int(c == top) for c in concepts] for _ in test.labels]
    return {
        "accuracy": float(skm.accuracy_score(truth, guess)),
        "macro_f1": float(skm.f1_score(truth, guess, average="macro", zero_division=0)),
        "micro_f1": float(skm.f1_score(truth, guess, average="micro", zero_division=0)),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| dataset | arm | settings | test accuracy | test macro F1 | train s | end-to-end s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        res = r["result"]
        settings = " ".join(r.get("set") or []) or "defaults"
        seconds = res.get("train_seconds")
        lines.append(
            f"| {r['dataset']} | {r['arm']} | {settings} | {res['accuracy']:.4f} | "
            f"{res['macro_f1']:.4f} | {seconds if seconds is None else f'{seconds:.1f}'} | "
            f"{res.get('end_to_end_seconds', seconds) or 0:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="sst2,trec,sms_spam,banking77")
    parser.add_argument("--arms", default="peer,hf-advanced,embedding-logreg")
    parser.add_argument("--train-rows", type=int, default=2000)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE")
    parser.add_argument(
        "--validation-split",
        type=float,
        help="dataset.validationSplit of the template arms (default: the trainer's rule)",
    )
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    entrypoint.quiet_libraries()
    rows: list[dict[str, Any]] = []
    for name in args.datasets.split(","):
        train, test = peer.load(name, args.train_rows, args.test_rows, args.seed)
        separator = MULTI_LABEL.get(name)
        with tempfile.TemporaryDirectory(prefix="textclf-bench-") as scratch:
            work = pathlib.Path(scratch)
            train_csv = peer.write_csv(work / "train.csv", train)
            test_csv = peer.write_csv(work / "test.csv", test)
            for arm in args.arms.split(","):
                if arm == "peer":
                    result = (
                        label_prior(train, test, separator)
                        if separator
                        else peer.plain_trainer(
                            train, test, peer.PeerSettings(seed=args.seed), work
                        )
                    )
                    arm_name = "label prior" if separator else "plain Trainer"
                else:
                    result = template_arm(
                        arm,
                        train_csv=train_csv,
                        test_csv=test_csv,
                        separator=separator,
                        overrides=args.set,
                        seed=args.seed,
                        work=work,
                        validation_split=args.validation_split,
                    )
                    arm_name = arm
                row = {
                    "date": datetime.date.today().isoformat(),
                    "dataset": name,
                    "arm": arm_name,
                    "train_rows": len(train),
                    "test_rows": len(test),
                    "seed": args.seed,
                    "set": args.set if arm != "peer" else [],
                    "validation_split": args.validation_split if arm != "peer" else None,
                    "result": result,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    with args.out.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
