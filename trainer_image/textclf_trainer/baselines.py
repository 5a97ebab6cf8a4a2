"""The classic baseline beside every run: TF-IDF + logistic regression on the same data.

A number means little without a floor to compare it with. ``runner`` fits this baseline on the run's
train split (seconds on a CPU, before the model trains) and evaluates it on every split with the same
code as the model (``evaluation.report``); the Result carries its headline per split, ``metrics.json``
its full reports under ``baseline``, and ``textclf.api.results.lift`` the model's lift over it.
``params.baseline: false`` turns it off.

The baseline: ``TfidfVectorizer`` (word unigrams and bigrams, sublinear tf, lowercase, at most
``MAX_FEATURES`` terms by frequency) and ``LogisticRegression`` (C 1, lbfgs, ``max_iter`` 1000, the run's
seed); single-label: one multinomial model, softmax scores; multi-label: one binary model per concept
(one-vs-rest), probabilities thresholded at 0.5 like the model's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn import feature_extraction, linear_model, multiclass

from textclf_trainer import evaluation, examples

NAME = "TF-IDF + logistic regression"
MAX_FEATURES = 200_000
"""Caps the vocabulary (and the model's size) on large datasets; small ones never reach it."""
VECTORIZER: dict[str, Any] = {
    "ngram_range": (1, 2),
    "sublinear_tf": True,
    "lowercase": True,
    "max_features": MAX_FEATURES,
}
LOGREG: dict[str, Any] = {"C": 1.0, "max_iter": 1000}


def settings(seed: int) -> dict[str, Any]:
    """The baseline's settings, as ``metrics.json`` records them."""
    return {
        "model": NAME,
        "vectorizer": {**VECTORIZER, "ngram_range": list(VECTORIZER["ngram_range"])},
        "logreg": {**LOGREG, "random_state": seed},
    }


@dataclasses.dataclass(frozen=True)
class Baseline:
    vectorizer: feature_extraction.text.TfidfVectorizer
    model: Any  # LogisticRegression or OneVsRestClassifier of them
    n_concepts: int
    multi_label: bool

    def scores(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Scores [texts, concepts]: softmax (single-label) or per-concept probabilities."""
        probabilities = self.model.predict_proba(self.vectorizer.transform(list(texts)))
        if self.multi_label:
            return np.asarray(probabilities, dtype=np.float32)
        scores = np.zeros((len(texts), self.n_concepts), dtype=np.float32)
        scores[:, np.asarray(self.model.classes_, dtype=np.int64)] = probabilities
        return scores


def fit(
    train: examples.Examples, concepts: Sequence[str], multi_label: bool, seed: int
) -> Baseline:
    vectorizer = feature_extraction.text.TfidfVectorizer(**VECTORIZER)
    features = vectorizer.fit_transform(list(train.texts))
    logreg = linear_model.LogisticRegression(**LOGREG, random_state=seed)
    model = multiclass.OneVsRestClassifier(logreg) if multi_label else logreg
    model.fit(features, evaluation.targets(train.labels, concepts, multi_label))
    return Baseline(vectorizer, model, len(concepts), multi_label)


def evaluate(
    splits: Mapping[str, examples.Examples],
    concepts: Sequence[str],
    multi_label: bool,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """The baseline's full report per split (curves left out: the model's are in metrics.json)."""
    baseline = fit(splits["train"], concepts, multi_label, seed)
    reports: dict[str, dict[str, Any]] = {}
    for name, split in splits.items():
        full = evaluation.report(
            evaluation.targets(split.labels, concepts, multi_label),
            baseline.scores(split.texts),
            concepts,
            multi_label=multi_label,
        )
        reports[name] = {k: v for k, v in full.items() if k != "curves"}
    return reports
