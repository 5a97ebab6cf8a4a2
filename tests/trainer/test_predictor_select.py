"""Clarifai output_config semantics of ``predictor.select``."""

from __future__ import annotations

import numpy as np
import pytest

from textclf_trainer import predictor

CONCEPTS = ("a", "b", "c", "d")
ROW = np.array([0.1, 0.4, 0.4, 0.05], dtype=np.float32)


def names(
    select_concepts: list[str] | None = None,
    min_value: float | None = None,
    max_concepts: int | None = None,
) -> list[str]:
    chosen = predictor.select(
        CONCEPTS,
        ROW,
        select_concepts=select_concepts,
        min_value=min_value,
        max_concepts=max_concepts,
    )
    return [c.name for c in chosen]


def test_all_concepts_highest_first_ties_in_concept_order() -> None:
    assert names() == ["b", "c", "a", "d"]


def test_filters_compose() -> None:
    assert names(min_value=0.1) == ["b", "c", "a"]
    assert names(max_concepts=1) == ["b"]
    assert names(select_concepts=["d", "a"]) == ["a", "d"]
    assert names(select_concepts=["d", "a"], min_value=0.08) == ["a"]


def test_unknown_selected_concept() -> None:
    with pytest.raises(ValueError, match="zz"):
        names(select_concepts=["zz"])


def test_activations() -> None:
    logits = np.array([[0.0, 2.0]], dtype=np.float32)
    assert abs(float(predictor.softmax(logits).sum()) - 1.0) < 1e-6
    assert abs(float(predictor.sigmoid(logits)[0, 0]) - 0.5) < 1e-6
