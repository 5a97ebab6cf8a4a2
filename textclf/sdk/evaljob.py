"""``python -m textclf.sdk.evaljob FOLDER``: one evaluation of the embedded backend, as a child process.

Reads ``FOLDER/request.json`` (the artifact, the dataset's URI and columns), scores the dataset with
the trainer's evaluation (the same report as training's test split), and writes ``metrics.json``
(the full report and the data report), ``predictions.json`` (every row's true concepts and
scores, what comparisons are computed from) and ``status.json`` (``MODEL-EVALUATING``, then
``MODEL-EVALUATED`` with its summary, or ``MODEL-EVALUATION-FAILED`` with the detail code and the
reason). Its log goes to ``FOLDER/eval.log`` (the parent points stdout there).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
from typing import Any

from textclf.api import codes
from textclf.sdk import evalsummary

PREDICTIONS = "predictions.json"
"""Per row: its true concepts and every concept's score (columns in ``concepts`` order)."""


def _write(path: pathlib.Path, content: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n")
    tmp.replace(path)


def run(folder: pathlib.Path) -> int:
    from textclf_trainer import entrypoint, errors, predictor, runner  # noqa: PLC0415

    request = json.loads((folder / "request.json").read_text())
    status = folder / "status.json"
    evaluating = codes.EvaluationCode.EVALUATING
    _write(status, {"code": evaluating, "description": codes.describe(evaluating)})
    entrypoint.quiet_libraries()
    try:
        model = predictor.Predictor.load(request["artifact"])
        evaluated = runner.evaluate_file(
            model,
            request["dataset_uri"],
            text_column=request["text_column"],
            label_column=request["label_column"],
            label_separator=request.get("label_separator"),
        )
    except errors.TrainerError as err:
        failed = codes.EvaluationCode.FAILED
        _write(status, {"code": failed, "detail_code": err.detail,
                        "description": f"{codes.describe(failed)}: {err.message}"})  # fmt: skip
        return err.exit_code
    except Exception as err:  # anything else: said in the status, not only in the log
        failed = codes.EvaluationCode.FAILED
        _write(status, {"code": failed, "detail_code": codes.DetailCode.INTERNAL_ERROR,
                        "description": f"{codes.describe(failed)}: {type(err).__name__}: {err}"})  # fmt: skip
        raise
    report = evaluated.report
    _write(folder / "metrics.json", {"metrics": report, "data": evaluated.data.to_dict()})
    _write(
        folder / PREDICTIONS,
        {
            "concepts": list(model.concepts),
            "multi_label": model.metadata.multi_label,
            "labels": [list(names) for names in evaluated.labels],
            "scores": evaluated.scores.round(6).tolist(),
        },
    )
    done = codes.EvaluationCode.EVALUATED
    summary = dataclasses.asdict(evalsummary.summarize(report))
    _write(status, {"code": done, "description": codes.describe(done), "summary": summary})
    return 0


if __name__ == "__main__":
    sys.exit(run(pathlib.Path(sys.argv[1])))
