"""The progress view both `train` paths share: tqdm's bar on a terminal, a line per change else."""

from __future__ import annotations

import io

from textclf.cli import progressview


def test_lines_say_each_change_once() -> None:
    out = io.StringIO()
    view = progressview.View("reviews-v1", out, bar=False)
    for percent in (0, 0, 40, 40, 100):
        view.show("MODEL-TRAINING", percent, phase="train")
    view.show("MODEL-TRAINING", 100, loss=0.25, phase="done")
    view.close()
    assert out.getvalue().splitlines() == [
        "reviews-v1: MODEL-TRAINING train 0%",
        "reviews-v1: MODEL-TRAINING train 40%",
        "reviews-v1: MODEL-TRAINING train 100%",
        "reviews-v1: MODEL-TRAINING done 100% loss 0.2500",
    ]


def test_the_bar_is_tqdms_and_ends_full() -> None:
    out = io.StringIO()
    view = progressview.View("reviews-v1", out, bar=True)
    for percent in (0, 35, 100):
        view.show("MODEL-TRAINING", percent, loss=0.5)
    view.close()
    drawn = out.getvalue().split("\r")
    assert drawn[-1].startswith("reviews-v1: 100%|")
    assert "100/100" in drawn[-1]
    assert "MODEL-TRAINING loss 0.5000" in drawn[-1]
