"""``textclf.EvalResultCompare``: finished evaluations side by side, as the hosted platform's SDK shows
them: one model across datasets, or several models on one dataset.

Every number comes from the stored per-row predictions of each evaluation (``predictions.json``:
true concepts and every concept's score), at the asked ``confidence_threshold``: a concept is
predicted for a row when its score is at least the threshold, as the platform counts it.

- ``detailed_summary()`` → two pandas DataFrames: per concept (Concept, ROC AUC, Total Labeled, Total
  Predicted, True Positives, False Negatives, False Positives, Recall, Precision, F1, Dataset, Model)
  and totals per evaluation (counts summed over concepts; Recall, Precision and F1 from those sums,
  i.e. micro-averaged; ROC AUC the mean over concepts).
- ``all(folder)`` → ``folder/conf-<threshold>/`` with ``concepts_summary.csv``, ``total_summary.csv``,
  ``roc.png``, ``pr.png`` (micro-averaged over concepts, one curve per evaluation) and
  ``confusion_matrix.png`` (true concept against the top-scored one, one panel per evaluation).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from textclf.api import codes, modelevaluation

if TYPE_CHECKING:
    import pandas

    from textclf.sdk.client import Dataset, Model

CONCEPT_COLUMNS = (
    "Concept", "ROC AUC", "Total Labeled", "Total Predicted", "True Positives",
    "False Negatives", "False Positives", "Recall", "Precision", "F1", "Dataset", "Model",
)  # fmt: skip
TOTAL_COLUMNS = CONCEPT_COLUMNS[1:]


@dataclasses.dataclass(frozen=True)
class Scored:
    """One finished evaluation's rows."""

    model: str
    dataset: str
    eval_id: str
    concepts: tuple[str, ...]
    truth: npt.NDArray[np.bool_]  # rows x concepts: the concept is a true label
    scores: npt.NDArray[np.float64]  # rows x concepts

    @property
    def name(self) -> str:
        return f"{self.model} on {self.dataset}"


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _auc(truth: npt.NDArray[np.bool_], scores: npt.NDArray[np.float64]) -> float | None:
    from sklearn import metrics  # noqa: PLC0415

    if truth.all() or not truth.any():
        return None
    return float(metrics.roc_auc_score(truth, scores))


def concept_rows(scored: Scored, threshold: float) -> list[dict[str, Any]]:
    predicted = scored.scores >= threshold
    rows = []
    for i, concept in enumerate(scored.concepts):
        labeled, guessed = scored.truth[:, i], predicted[:, i]
        tp = int((labeled & guessed).sum())
        recall, precision = _ratio(tp, int(labeled.sum())), _ratio(tp, int(guessed.sum()))
        rows.append(
            dict(zip(CONCEPT_COLUMNS, (
                concept, _auc(labeled, scored.scores[:, i]), int(labeled.sum()),
                int(guessed.sum()), tp, int(labeled.sum()) - tp, int(guessed.sum()) - tp,
                recall, precision, _f1(precision, recall), scored.dataset, scored.model,
            ), strict=True))
        )  # fmt: skip
    return rows


def total_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    labeled = sum(r["Total Labeled"] for r in rows)
    predicted = sum(r["Total Predicted"] for r in rows)
    tp = sum(r["True Positives"] for r in rows)
    aucs = [r["ROC AUC"] for r in rows if r["ROC AUC"] is not None]
    recall, precision = _ratio(tp, labeled), _ratio(tp, predicted)
    return dict(zip(TOTAL_COLUMNS, (
        float(np.mean(aucs)) if aucs else None, labeled, predicted, tp, labeled - tp,
        predicted - tp, recall, precision, _f1(precision, recall), rows[0]["Dataset"],
        rows[0]["Model"],
    ), strict=True))  # fmt: skip


def _load(model: Model, dataset: Dataset) -> Scored:
    done = [
        e
        for e in model.list_evaluations()
        if e.dataset_id == dataset.id and e.status == codes.EvaluationCode.EVALUATED
    ]
    if not done:
        raise ValueError(
            f"model {model.id} has no finished evaluation on dataset {dataset.id}: "
            f"model.evaluate(dataset_id={dataset.id!r}, eval_id=...) first"
        )
    latest = done[-1]
    stored = json.loads(
        model.app.client.backend.evaluation_file(
            model.app.id, latest.id, modelevaluation.PREDICTIONS_FILE
        )
    )
    concepts = tuple(stored["concepts"])
    truth = np.array(
        [[c in set(names) for c in concepts] for names in stored["labels"]], dtype=bool
    ).reshape(len(stored["labels"]), len(concepts))
    scores = np.array(stored["scores"], dtype=np.float64).reshape(truth.shape)
    return Scored(model.id, dataset.id, latest.id, concepts, truth, scores)


class EvalResultCompare:
    def __init__(self, models: Sequence[Model], datasets: Sequence[Dataset]) -> None:
        if len(models) > 1 and len(datasets) > 1:
            raise ValueError("compare one model across datasets, or several models on one dataset")
        if not models or not datasets:
            raise ValueError("give at least one model and one dataset")
        self.evaluations = [_load(m, d) for m in models for d in datasets]

    def detailed_summary(
        self, confidence_threshold: float = 0.5
    ) -> tuple[pandas.DataFrame, pandas.DataFrame]:
        import pandas  # noqa: PLC0415  (the sdk extra)

        per_concept, totals = [], []
        for scored in self.evaluations:
            rows = concept_rows(scored, confidence_threshold)
            per_concept += rows
            totals.append(total_row(rows))
        return (
            pandas.DataFrame(per_concept, columns=list(CONCEPT_COLUMNS)),
            pandas.DataFrame(totals, columns=list(TOTAL_COLUMNS)),
        )

    def all(
        self,
        output_folder: str | pathlib.Path,
        confidence_threshold: float = 0.5,
        overwrite: bool = False,
    ) -> pathlib.Path:
        """Tables and plots into ``output_folder/conf-<threshold>/``; that folder, written."""
        folder = pathlib.Path(output_folder) / f"conf-{confidence_threshold:g}"
        if folder.exists():
            if not overwrite:
                raise FileExistsError(f"{folder} exists; pass overwrite=True to replace it")
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        concepts, totals = self.detailed_summary(confidence_threshold)
        concepts.to_csv(folder / "concepts_summary.csv", index=False)
        totals.to_csv(folder / "total_summary.csv", index=False)
        _plots(self.evaluations, folder)
        return folder


def _plots(evaluations: Sequence[Scored], folder: pathlib.Path) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415
    from sklearn import metrics  # noqa: PLC0415

    for kind in ("roc", "pr"):
        figure, axes = pyplot.subplots(figsize=(6.4, 4.8), dpi=100)
        for scored in evaluations:
            truth, scores = scored.truth.ravel(), scored.scores.ravel()
            if kind == "roc":
                x, y, _ = metrics.roc_curve(truth, scores)
                axes.plot(x, y, label=f"{scored.name} (AUC {metrics.auc(x, y):.3f})")
            else:
                y, x, _ = metrics.precision_recall_curve(truth, scores)
                ap = metrics.average_precision_score(truth, scores)
                axes.plot(x, y, label=f"{scored.name} (AP {ap:.3f})")
        labels = ("False positive rate", "True positive rate") if kind == "roc" else (
            "Recall", "Precision")  # fmt: skip
        axes.set(xlabel=labels[0], ylabel=labels[1], xlim=(0, 1), ylim=(0, 1.02))
        axes.set_title(
            "ROC, micro-averaged" if kind == "roc" else "Precision-recall, micro-averaged"
        )
        axes.legend(loc="lower right" if kind == "roc" else "lower left")
        figure.savefig(folder / f"{kind}.png")
        pyplot.close(figure)
    figure, panels = pyplot.subplots(
        1, len(evaluations), figsize=(6.4 * len(evaluations), 4.8), dpi=100, squeeze=False
    )
    for scored, axes in zip(evaluations, panels[0], strict=True):
        true_index = scored.truth.argmax(axis=1)
        matrix = metrics.confusion_matrix(
            true_index, scored.scores.argmax(axis=1), labels=range(len(scored.concepts))
        )
        metrics.ConfusionMatrixDisplay(matrix, display_labels=list(scored.concepts)).plot(
            ax=axes, colorbar=False
        )
        axes.set_title(scored.name)
    figure.tight_layout()
    figure.savefig(folder / "confusion_matrix.png")
    pyplot.close(figure)
