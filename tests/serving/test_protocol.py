"""The V2 label tensor of a multi-label model: each concept cut at its own threshold."""

from __future__ import annotations

import numpy as np

from textclf_trainer import protocol

CONCEPTS = ("anger", "joy", "love")
SCORES = np.array([[0.30, 0.55, 0.12], [0.05, 0.20, 0.40]], dtype=np.float32)


def test_one_threshold_for_every_concept() -> None:
    assert protocol.labels(SCORES, CONCEPTS, True, 0.5) == ["joy", ""]


def test_a_threshold_per_concept() -> None:
    cuts = (0.25, 0.6, 0.1)
    assert protocol.labels(SCORES, CONCEPTS, True, cuts) == ["anger,love", "love"]
    body = protocol.v2_response(
        protocol.InferRequest(["a", "b"], ("label",), None),
        SCORES,
        model="emotions",
        version=None,
        concepts=CONCEPTS,
        multi_label=True,
        threshold=cuts,
    )
    assert body["outputs"][0]["data"] == ["anger,love", "love"]


def test_single_label_ignores_the_threshold() -> None:
    assert protocol.labels(SCORES, CONCEPTS, False, (0.9, 0.9, 0.9)) == ["joy", "love"]
