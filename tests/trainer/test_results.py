"""The termination message stays under the kubelet's 4 KiB with everything a Result now carries."""

from __future__ import annotations

import json

from textclf.api import channels, codes, conditions, modelevaluation, trainingrun

# banking77's 77 intents have names of ~20 characters; longer ones make the case harder.
CONCEPTS = [f"concept_number_{i:02d}_of_the_banking_intents" for i in range(77)]


def _split(examples: int) -> channels.HeadlineSplit:
    return channels.HeadlineSplit(
        examples=examples,
        accuracy=0.912345,
        macro_f1=0.901234,
        macro_precision=0.923456,
        macro_recall=0.898765,
        macro_roc_auc=0.998765,
        per_concept=[
            trainingrun.ConceptMetrics(
                concept=c,
                precision=0.123456,
                recall=0.654321,
                f1=0.333333,
                roc_auc=0.987654,
                support=40,
            )
            for c in CONCEPTS
        ],
    )


def test_a_77_concept_result_fits_in_4_kib() -> None:
    splits = ("train", "validation", "test")
    result = channels.Result(
        code=codes.StatusCode.TRAINED,
        message="hf-advanced trained on 9003 examples; " + "x" * 1400,
        metrics={s: _split(3080) for s in splits},
        baseline={s: _split(3080) for s in splits},
        artifact=trainingrun.Artifact(
            uri="s3://a-bucket/teams/ml/models/banking77/runs/banking77-hf-advanced-v12/artifact",
            digest="sha256:" + "a" * 64,
        ),
        concepts=CONCEPTS,
        data_report=trainingrun.DataReportSummary(
            train_rows=9003,
            validation_rows=1000,
            test_rows=3080,
            dropped_rows=5,
            duplicate_train_rows=5,
            leaked_test_rows=10,
            leaked_validation_rows=2,
        ),
        warnings=[channels.Warning(type=t, message="m" * 400) for t in conditions.WARNINGS],
    )
    text = result.to_termination_message()
    assert len(text.encode()) <= channels.MAX_TERMINATION_MESSAGE_BYTES
    back = channels.Result.from_termination_message(text)
    # What the operator needs survives: the numbers per split, the baseline, the report, warnings.
    assert set(back.metrics) == set(back.baseline) == set(splits)
    assert back.metrics["test"].macro_f1 == 0.901234
    assert back.baseline["test"].per_concept is None  # dropped first, with the model's
    assert back.data_report == result.data_report
    assert [w.type for w in back.warnings] == list(conditions.WARNINGS)
    assert json.loads(text)["artifact"]["digest"] == "sha256:" + "a" * 64


def test_a_77_concept_evaluation_result_fits_in_4_kib() -> None:
    result = channels.EvaluationResult(
        code=codes.EvaluationCode.EVALUATED,
        message="y" * 1500,
        metrics=_split(3080),
        summary=modelevaluation.Summary(
            examples=3080,
            accuracy=0.91,
            macro_avg_f1_score=0.9,
            macro_avg_precision=0.92,
            macro_avg_recall=0.89,
            macro_avg_roc_auc=0.99,
            macro_std_roc_auc=0.01,
        ),
        output="s3://bucket/" + "p" * 1000,
        digest="sha256:" + "ab" * 32,
    )
    text = result.to_termination_message()
    assert len(text.encode()) <= channels.MAX_TERMINATION_MESSAGE_BYTES
    back = channels.EvaluationResult.from_termination_message(text)
    assert back.summary == result.summary  # the summary and output always survive
    assert back.output == result.output
    assert back.metrics is not None
    assert back.metrics.accuracy == 0.912345
