"""Benchmark: padding-free (packed) training steps of a sequence classifier against padded ones, on the
machine at hand, same texts, same model, one process.

Issue 13 asks whether padding-free batches pay where they cost nothing in accuracy. transformers 5
packs for any attention implementation: with ``position_ids`` that restart at 0 for each text and no
attention mask, the encoder attends within each text only (flash-attention's variable-length kernel
on a GPU; on a CPU, SDPA with a block-diagonal mask over the packed row). A classifier also needs each
text's own first token for its pooler, so this packs by hand: the texts of a batch side by side in
one row, the [CLS] vectors gathered at each text's start, then the model's pooler and classifier.

Two arms per batch of texts, both length-grouped like the trainer's sampler (texts of similar length
share a batch, so padding is already small):

- ``padded``: ``BertForSequenceClassification`` on the right-padded batch, attention mask as usual;
- ``packed``: the same texts as one row, no padding.

First the logits of both arms are compared (they must agree, or packing is wrong), then forward +
backward + AdamW steps are timed, alternating arms. Prints a Markdown table with tokens/s and the
ratio.

    python bench/padding_free.py [--dataset sst2] [--rows 512] [--batch 32] [--steps 12]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import peer
import torch
import transformers


def batches(tokenizer: Any, texts: list[str], batch: int, max_length: int) -> list[list[list[int]]]:
    """Token ids per text, grouped by length into batches (the trainer's length grouping)."""
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    ids.sort(key=len)
    return [ids[i : i + batch] for i in range(0, len(ids), batch)]


def padded_logits(model: Any, group: list[list[int]], pad: int) -> torch.Tensor:
    longest = max(len(t) for t in group)
    input_ids = torch.tensor([t + [pad] * (longest - len(t)) for t in group])
    mask = torch.tensor([[1] * len(t) + [0] * (longest - len(t)) for t in group])
    logits: torch.Tensor = model(input_ids=input_ids, attention_mask=mask).logits
    return logits


def packed_logits(model: Any, group: list[list[int]]) -> torch.Tensor:
    input_ids = torch.tensor([[i for t in group for i in t]])
    position_ids = torch.tensor([[p for t in group for p in range(len(t))]])
    starts = torch.tensor([0] + [len(t) for t in group[:-1]]).cumsum(0)
    hidden = model.bert(input_ids=input_ids, position_ids=position_ids).last_hidden_state[0]
    pooled = model.bert.pooler.activation(model.bert.pooler.dense(hidden[starts]))
    logits: torch.Tensor = model.classifier(model.dropout(pooled))
    return logits


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="sst2")
    parser.add_argument("--rows", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--steps", type=int, default=12, help="timed steps per arm")
    args = parser.parse_args()
    torch.manual_seed(0)
    train, _ = peer.load(args.dataset, args.rows, 1, seed=42)
    path = peer.backbone_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=2, attn_implementation="sdpa"
    )
    groups = batches(tokenizer, train.texts, args.batch, args.max_length)
    pad = tokenizer.pad_token_id

    model.eval()
    with torch.no_grad():
        worst = max(
            float((padded_logits(model, g, pad) - packed_logits(model, g)).abs().max())
            for g in groups
        )
    print(f"largest logit difference, packed vs padded, over {len(groups)} batches: {worst:.2e}")

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    # Throughput only: every text gets label 0 (the groups are token ids sorted by length, apart
    # from their labels); the cost of a step does not depend on which label it learns.
    labels = {id(g): torch.zeros(len(g), dtype=torch.long) for g in groups}
    seconds = {"padded": 0.0, "packed": 0.0}
    real = {"padded": 0, "packed": 0}  # tokens of the texts
    computed = {"padded": 0, "packed": 0}  # positions the encoder ran, padding included
    for step in range(args.steps * 2 + 2):  # the first round of each arm warms up
        group = groups[(step // 2) % len(groups)]
        arm = "padded" if step % 2 == 0 else "packed"
        started = time.perf_counter()
        logits = (
            padded_logits(model, group, pad) if arm == "padded" else packed_logits(model, group)
        )
        torch.nn.functional.cross_entropy(logits, labels[id(group)]).backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= 2:
            seconds[arm] += time.perf_counter() - started
            real[arm] += sum(len(t) for t in group)
            computed[arm] += len(group) * max(len(t) for t in group) if arm == "padded" else 0
    computed["packed"] = real["packed"]
    per_s = {arm: real[arm] / seconds[arm] for arm in seconds}
    print(f"\n{peer.machine()}; {args.dataset}, {args.rows} rows, batch {args.batch}, SDPA\n")
    print("| arm | real tokens/s (train step) | positions computed per real token |")
    print("|---|---|---|")
    for arm, name in (("padded", "padded, length-grouped"), ("packed", "packed (padding-free)")):
        print(f"| {name} | {per_s[arm]:.0f} | {computed[arm] / real[arm]:.2f} |")
    print(f"\npacked / padded: {per_s['packed'] / per_s['padded']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
