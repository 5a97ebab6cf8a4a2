"""The artifact's model card (``README.md``): what the model is, what it was trained on, how well it did.

Written for people browsing a model folder or a registry; every number comes from the run's data
reports and ``metrics.json``, nothing is typed by hand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from textclf_trainer import artifacts, catalogue, examples

HEADLINE = (
    ("accuracy", "Accuracy"),
    ("macro_precision", "Macro precision"),
    ("macro_recall", "Macro recall"),
    ("macro_f1", "Macro F1"),
    ("weighted_f1", "Weighted F1"),
    ("macro_roc_auc", "Macro ROC AUC"),
)


def _value(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _metrics_table(splits: Mapping[str, Mapping[str, Any]]) -> list[str]:
    names = list(splits)
    lines = ["| metric | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines.append("| examples | " + " | ".join(str(splits[s]["examples"]) for s in names) + " |")
    for key, title in HEADLINE:
        lines.append(f"| {title} | " + " | ".join(_value(splits[s].get(key)) for s in names) + " |")
    return lines


def _data_table(reports: Mapping[str, examples.DataReport]) -> list[str]:
    lines = ["| file | source | rows | valid | dropped |", "|---|---|---|---|---|"]
    for name, r in reports.items():
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(r.dropped.items())) or "none"
        lines.append(f"| {name} | `{r.source}` | {r.rows} | {r.valid} | {dropped} |")
    return lines


def render(
    *,
    run_name: str,
    metadata: artifacts.Metadata,
    backbone: str,
    params: Mapping[str, Any],
    reports: Mapping[str, examples.DataReport],
    split_sizes: Mapping[str, int],
    label_counts: Mapping[str, int],
    metrics: Mapping[str, Mapping[str, Any]],
    notes: list[str],
) -> str:
    template = catalogue.get(metadata.template) or {"description": ""}
    kind = "multi-label" if metadata.multi_label else "single-label"
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "tags: [textclf, " + metadata.template + "]",
        "---",
        f"# {run_name}",
        "",
        f"A {kind} text classifier over {len(metadata.concepts)} concepts, trained by textclf with "
        f"the `{metadata.template}` template from `{backbone}`.",
        "",
        template["description"],
        "",
        "## Concepts",
        "",
        "| concept | training examples |",
        "|---|---|",
        *(f"| {c} | {label_counts.get(c, 0)} |" for c in metadata.concepts),
        "",
        "## Data",
        "",
        *_data_table(reports),
        "",
        "Examples per split: "
        + ", ".join(f"{name} {n}" for name, n in split_sizes.items())
        + ". Invalid rows are dropped and counted; see `metrics.json` for their row numbers.",
        "",
        "## Metrics",
        "",
        *_metrics_table(metrics),
        "",
        "Per-concept metrics, confusion matrix and ROC/PR curves: `metrics.json`.",
        (
            f"Scores are sigmoid probabilities; a concept applies at >= {metadata.threshold}."
            if metadata.multi_label
            else "Scores are softmax probabilities; the prediction is the highest."
        ),
        "",
    ]
    if notes:
        lines += ["## Notes", "", *(f"- {note}" for note in notes), ""]
    lines += [
        "## Parameters",
        "",
        "```json",
        json.dumps(params, indent=2, sort_keys=True, default=str),
        "```",
        "",
        "## Use",
        "",
        "```python",
        "from textclf_trainer import predictor",
        "model = predictor.Predictor.load('PATH')",
        "model.predict(['some text'], max_concepts=3)",
        "```",
        "",
    ]
    return "\n".join(lines)
