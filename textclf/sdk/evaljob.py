"""``python -m textclf.sdk.evaljob FOLDER``: one evaluation of the embedded backend, as a child process.

Reads ``FOLDER/request.json`` (the artifact, the dataset's URI and columns) and runs the trainer's
evaluator on it, the same code a ModelEvaluation's Job runs on a cluster: the report and every row's
scores go to ``FOLDER/result/`` (``metrics.json``, ``predictions.json``), and ``status.json`` says
``MODEL-EVALUATING``, then ``MODEL-EVALUATED`` with its summary, or ``MODEL-EVALUATION-FAILED`` with
the detail code and the reason. Its log goes to ``FOLDER/eval.log`` (the parent points stdout there).
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

from textclf.api import channels, codes, modelevaluation, trainingrun

RESULT_DIR = "result"


def _write(path: pathlib.Path, content: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(content, indent=2) + "\n")
    tmp.replace(path)


def run(folder: pathlib.Path) -> int:
    from textclf_trainer import entrypoint, evaluator  # noqa: PLC0415

    given = json.loads((folder / "request.json").read_text())
    status = folder / "status.json"
    evaluating = codes.EvaluationCode.EVALUATING
    _write(status, {"code": evaluating, "description": codes.describe(evaluating)})
    entrypoint.quiet_libraries()
    request = channels.EvaluationRequest(
        name=folder.name,
        artifact=trainingrun.Artifact(uri=given["artifact"], digest=given.get("digest")),
        dataset=modelevaluation.Dataset(
            uri=given["dataset_uri"],
            text_column=given["text_column"],
            label_column=given["label_column"],
            label_separator=given.get("label_separator"),
        ),
        output=trainingrun.Output(uri=(folder / RESULT_DIR).resolve().as_uri()),
    )
    request_file = folder / "evaluation.json"
    request_file.write_text(json.dumps(request.to_wire()))
    result, exit_code = evaluator.run(request_file)
    described = codes.describe(result.code)
    if result.code == codes.EvaluationCode.FAILED:
        detail = modelevaluation.detail_of(result.detail_code or codes.DetailCode.INTERNAL_ERROR)
        _write(status, {"code": result.code, "detail_code": detail,
                        "description": f"{described}: {result.message}"})  # fmt: skip
        return exit_code
    summary = result.summary.to_wire() if result.summary else None
    _write(status, {"code": result.code, "description": described, "summary": summary})
    return exit_code


if __name__ == "__main__":
    sys.exit(run(pathlib.Path(sys.argv[1])))
