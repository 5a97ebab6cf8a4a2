"""The summary of a run that people read: code, metrics beside the baseline, lift, data report, and
warnings. One printer for ``textclf train --local``, ``textclf status --local`` and ``textclf status``
against a cluster, so a run reads the same wherever it ran."""

from __future__ import annotations

from textclf.api import codes, trainingrun
from textclf.api import conditions as conds

SPLITS = ("train", "validation", "test")


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{100 * value:5.1f}"


def _points(value: float) -> str:
    return f"{value:+6.1f}"


def render(name: str, status: trainingrun.TrainingRunStatus) -> str:
    """Plain text, a few dozen lines at most."""
    lines = [f"run {name}: {status.code or 'no status yet'}"]
    if status.detail_code:
        lines.append(f"  detail: {status.detail_code}")
    if status.description and status.code != codes.StatusCode.TRAINED:
        lines.append(f"  {status.description}")
    report = status.data_report
    if report is not None:
        parts = [f"train {report.train_rows}"]
        if report.validation_rows is not None:
            parts.append(f"validation {report.validation_rows}")
        if report.test_rows is not None:
            parts.append(f"test {report.test_rows}")
        lines.append(
            f"  data: {', '.join(parts)} rows; {report.dropped_rows} dropped; "
            f"{report.duplicate_train_rows} duplicate train rows"
        )
        if report.leaked_test_rows is not None and report.test_rows:
            lines.append(
                f"  leakage: {report.leaked_test_rows}/{report.test_rows} test rows also in train"
            )
        if report.leaked_validation_rows is not None and report.validation_rows:
            lines.append(
                f"  leakage: {report.leaked_validation_rows}/{report.validation_rows} "
                "validation rows also in train"
            )
    metrics = status.metrics or trainingrun.Metrics()
    baseline = status.baseline or trainingrun.Metrics()
    lift = status.lift or trainingrun.LiftPerSplit()
    rows = []
    for split in SPLITS:
        model: trainingrun.SplitMetrics | None = getattr(metrics, split)
        if model is None:
            continue
        base: trainingrun.SplitMetrics | None = getattr(baseline, split)
        up: trainingrun.Lift | None = getattr(lift, split)
        rows.append(
            f"  {split:<10} {model.examples:>6} {_pct(model.accuracy)} {_pct(model.macro_f1)} "
            f"{_pct(model.macro_roc_auc)}   {_pct(base.accuracy if base else None)} "
            f"{_pct(base.macro_f1 if base else None)}   "
            + (f"{_points(up.accuracy_points)} {_points(up.macro_f1_points)}" if up else "")
        )
    if rows:
        lines.append(
            "  split      examples   acc    F1   AUC | baseline acc   F1 | lift acc    F1 (points)"
        )
        lines.extend(rows)
    for cond in status.conditions:
        if cond.type in conds.WARNINGS and cond.status == "True":
            lines.append(f"  warning {cond.type}: {cond.message}")
    if status.artifact is not None:
        lines.append(f"  artifact: {status.artifact.uri}")
    return "\n".join(lines)
