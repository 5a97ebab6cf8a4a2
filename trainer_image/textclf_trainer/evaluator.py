"""``python -m textclf_trainer evaluate``: one evaluation of a trained artifact on a dataset.

A ModelEvaluation's Job runs this with the operator's ``channels.EvaluationRequest`` mounted as a
file (``TEXTCLF_RUN_SPEC``, as a run's spec); the embedded backend calls ``evaluate`` in a child
process. Either way: the artifact is fetched and its digest verified against the version's, the
dataset is read and cleaned as training reads its test split, and the output gets ``metrics.json``
(the full report and the data report) and ``predictions.json`` (every row's true concepts and
scores), sealed and published atomically like an artifact. The result goes to the termination
message; exit codes are training's (10-15 user errors, 20 infrastructure, 1 unexpected).
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import sys
import tempfile

import pydantic
import yaml

from textclf.api import channels, codes, modelevaluation
from textclf_trainer import artifacts, errors, evaluation, predictor, results, runner, storage

LOG = logging.getLogger(__name__)


def load_request(path: pathlib.Path) -> channels.EvaluationRequest:
    """The request file (JSON or YAML); one that breaks the model names the field."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        return channels.EvaluationRequest.model_validate(document)
    except OSError as exc:
        raise errors.invalid_params(f"{path}: cannot read the evaluation request ({exc})") from exc
    except (yaml.YAMLError, pydantic.ValidationError) as exc:
        raise errors.invalid_params(f"{path}: not an evaluation request: {exc}") from exc


def _model(request: channels.EvaluationRequest) -> tuple[predictor.Predictor, str]:
    try:
        model = predictor.Predictor.load(request.artifact.uri, digest=request.artifact.digest)
    except artifacts.NotVerified as exc:
        raise errors.invalid_params(str(exc)) from exc
    assert model.digest is not None
    return model, model.digest


def _write(path: pathlib.Path, content: object) -> None:
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def evaluate(request: channels.EvaluationRequest) -> channels.EvaluationResult:
    """Evaluate and publish; raises ``errors.TrainerError`` for a classified failure."""
    model, digest = _model(request)
    data = request.dataset
    evaluated = runner.evaluate_file(
        model,
        data.uri,
        text_column=data.text_column,
        label_column=data.label_column,
        label_separator=data.label_separator,
        tolerance_percent=data.invalid_data_tolerance_percent,
    )
    report = evaluated.report
    with tempfile.TemporaryDirectory(prefix="textclf-evaluation-") as tmp:
        folder = pathlib.Path(tmp)
        _write(
            folder / modelevaluation.METRICS_FILE,
            {"metrics": report, "data": evaluated.data.to_dict()},
        )
        _write(
            folder / modelevaluation.PREDICTIONS_FILE,
            {
                "concepts": list(model.concepts),
                "multi_label": model.metadata.multi_label,
                "labels": [list(names) for names in evaluated.labels],
                "scores": evaluated.scores.round(6).tolist(),
            },
        )
        artifacts.write_owner(
            folder,
            {"kind": modelevaluation.KIND, "namespace": request.namespace, "name": request.name},
        )
        artifacts.seal(folder)
        output = storage.publish(folder, request.output.uri)
    return channels.EvaluationResult(
        code=codes.EvaluationCode.EVALUATED,
        summary=modelevaluation.summarize(report),
        metrics=evaluation.headline_split(report),
        output=output,
        digest=digest,
    )


def failed(detail: codes.DetailCode, message: str) -> channels.EvaluationResult:
    return channels.EvaluationResult(
        code=codes.EvaluationCode.FAILED, detail_code=detail, message=message[:1500]
    )


def run(request_path: pathlib.Path) -> tuple[channels.EvaluationResult, int]:
    """Load, evaluate and classify every failure (never raises): the result and the exit code."""
    try:
        return evaluate(load_request(request_path)), int(codes.ExitCode.OK)
    except errors.TrainerError as exc:
        LOG.error("%s: %s", exc.detail, exc.message)
        return failed(exc.detail, exc.message), exc.exit_code
    except (OSError, MemoryError) as exc:
        LOG.exception("infrastructure error")
        message = f"infrastructure error: {type(exc).__name__}: {exc}"
        return failed(codes.DetailCode.INTERNAL_ERROR, message), int(codes.ExitCode.INFRASTRUCTURE)
    except Exception as exc:
        LOG.exception("internal error")
        return failed(codes.DetailCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}"), 1


def main(argv: list[str]) -> int:
    """``evaluate [REQUEST]``: the request file, else ``$TEXTCLF_RUN_SPEC``."""
    path = argv[0] if argv else os.environ.get(channels.RUN_SPEC_ENV)
    if not path:
        sys.stderr.write(f"evaluate: give the request file or set ${channels.RUN_SPEC_ENV}\n")
        return 2
    result, exit_code = run(pathlib.Path(path))
    written = results.write(result)
    print(json.dumps({"result": result.to_wire()}), flush=True)
    if written is not None:
        LOG.info("result written to the termination message %s", written)
    return exit_code
