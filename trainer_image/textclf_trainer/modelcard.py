"""The artifact's model card (``README.md``): what the model is, what it was trained on, how well it did.

Written for people browsing a model folder or a registry; every number comes from the run's data
report (``data_report.json``) and ``metrics.json``, nothing is typed by hand. Beside the model's
metrics stand the TF-IDF + logistic regression baseline's and the model's lift over it, and the run's
warnings (leakage, below baseline, single-class predictions) come before anything else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from textclf.api import channels, trainingrun
from textclf_trainer import artifacts, baselines, catalogue, datareport

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


def _data_table(report: datareport.Report) -> list[str]:
    lines = ["| file | source | rows | valid | dropped |", "|---|---|---|---|---|"]
    for name, r in report.files.items():
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(r.dropped.items())) or "none"
        lines.append(f"| {name} | `{r.source}` | {r.rows} | {r.valid} | {dropped} |")
    return lines


def _splits_table(report: datareport.Report, concepts: tuple[str, ...]) -> list[str]:
    names = list(report.splits)
    splits = [report.splits[n] for n in names]
    unit = "words" if report.tokens == datareport.WHITESPACE else "tokens"
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines.append("| rows | " + " | ".join(str(s.rows) for s in splits) + " |")
    for c in concepts[:20]:
        cells = [
            f"{s.class_counts.get(c, 0)} ({datareport.percent(s.class_counts.get(c, 0), s.rows):.1f}%)"
            for s in splits
        ]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    if len(concepts) > 20:
        lines.append(
            f"| ({len(concepts) - 20} more concepts) | " + " | ".join("" for _ in splits) + " |"
        )
    for key in ("min", "p50", "p90", "p99", "max"):
        values = " | ".join(str(s.lengths.get(key, "n/a")) for s in splits)
        lines.append(f"| length {key} ({unit}) | {values} |")
    lines.append(
        "| truncated at max_length | "
        + " | ".join(
            f"{s.lengths.get('truncated', 0)} ({s.lengths.get('truncatedPercent', 0.0):.1f}%)"
            for s in splits
        )
        + " |"
    )
    lines.append(
        "| duplicate rows | " + " | ".join(str(len(s.duplicates.rows)) for s in splits) + " |"
    )
    leaked = []
    for name in names:
        leak = report.leaks.get(name)
        leaked.append("-" if leak is None else f"{len(leak.rows)} ({leak.percent:.1f}%)")
    lines.append("| rows also in train | " + " | ".join(leaked) + " |")
    return lines


def _baseline_table(
    baseline: Mapping[str, Mapping[str, Any]], lift: trainingrun.LiftPerSplit | None
) -> list[str]:
    names = list(baseline)
    lines = ["| baseline | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, title in (("accuracy", "Accuracy"), ("macro_f1", "Macro F1")):
        lines.append(
            f"| {title} | " + " | ".join(_value(baseline[s].get(key)) for s in names) + " |"
        )
    if lift is not None:
        for attr, title in (
            ("accuracy_points", "Lift, accuracy"),
            ("macro_f1_points", "Lift, macro F1"),
        ):
            cells = []
            for s in names:
                split_lift = getattr(lift, s, None)
                cells.append(
                    "n/a" if split_lift is None else f"{getattr(split_lift, attr):+.2f} points"
                )
            lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return lines


def render(
    *,
    run_name: str,
    metadata: artifacts.Metadata,
    backbone: str,
    params: Mapping[str, Any],
    report: datareport.Report,
    metrics: Mapping[str, Mapping[str, Any]],
    baseline: Mapping[str, Mapping[str, Any]],
    lift: trainingrun.LiftPerSplit | None,
    warnings: list[channels.Warning],
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
    ]
    if warnings:
        lines += ["## Warnings", "", *(f"- **{w.type}**: {w.message}" for w in warnings), ""]
    label_counts = report.files["train"].label_counts
    lines += [
        "## Concepts",
        "",
        "| concept | training examples |",
        "|---|---|",
        *(f"| {c} | {label_counts.get(c, 0)} |" for c in metadata.concepts),
        "",
        "## Data",
        "",
        *_data_table(report),
        "",
        *_splits_table(report, metadata.concepts),
        "",
        "Invalid rows are dropped and counted. Duplicates and leakage compare normalised text ("
        + datareport.NORMALISATION
        + "); `data_report.json` lists every row number.",
        "",
        "## Metrics",
        "",
        *_metrics_table(metrics),
        "",
    ]
    if baseline:
        lines += [
            f"Baseline: {baselines.NAME} (word 1-2 grams, sublinear tf), trained on the same train "
            "split and evaluated with the same code. Lift: the model minus the baseline, in "
            "percentage points.",
            "",
            *_baseline_table(baseline, lift),
            "",
        ]
    lines += [
        "Per-concept metrics, confusion matrix and ROC/PR curves: `metrics.json`.",
        _decision(metadata),
        *_features(metadata),
        "",
    ]
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


def _features(metadata: artifacts.Metadata) -> list[str]:
    """What embedding-logreg's head reads: which pooled layers, normalised or not."""
    if metadata.kind != "embedding-logreg":
        return []
    norm = " L2-normalised" if metadata.normalize else ""
    if metadata.layers == (-1,):
        return [f"The head reads the frozen encoder's mean-pooled{norm} top layer."]
    layers = ", ".join(str(i) for i in metadata.layers)
    each = " (each L2-normalised)" if metadata.normalize else ""
    return [
        f"The head reads the frozen encoder's mean-pooled hidden layers {layers}{each} side by "
        "side; -1 is the top."
    ]


def _decision(metadata: artifacts.Metadata) -> str:
    if not metadata.multi_label:
        return "Scores are softmax probabilities; the prediction is the highest."
    if isinstance(metadata.threshold, float):
        return f"Scores are sigmoid probabilities; a concept applies at >= {metadata.threshold}."
    cuts = ", ".join(
        f"{c} {t:g}" for c, t in zip(metadata.concepts, metadata.threshold, strict=True)
    )
    return (
        "Scores are sigmoid probabilities; a concept applies at or above its own threshold, "
        f"chosen for the best F1 on the validation split: {cuts}."
    )
