"""A run's plan, decided by pure functions from what the cache holds: each reason a run gets no Job
(never, or not yet), the params merged from template, model and run, which Pods are the Job's, and
the Events a model's status change is worth."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from textclf.api import codes, textclassifiermodel, trainingrun
from textclf.api import conditions as conds
from textclf_operator import builders, config, modelreconcile, runplan

RUN: dict[str, Any] = {"metadata": {"name": "reviews-v1", "namespace": "demo", "uid": "run-uid"}}
SPEC_WIRE: dict[str, Any] = {
    "modelRef": {"name": "reviews"},
    "dataset": {"train": {"uri": "pvc://data/train.csv"}},
    "output": {"uri": "pvc://models/reviews"},
    "params": {"max_length": 64},
}
SPEC = trainingrun.TrainingRunSpec.model_validate(SPEC_WIRE)
MODEL = {"spec": {"template": "hf-advanced", "params": {"seed": 3}, "concepts": ["neg", "pos"]}}
TEMPLATE = {
    "spec": {
        "image": "textclf/trainer:0.1.0",
        "defaults": {"max_length": 128, "seed": 1},
        "paramsSchema": {
            "type": "object",
            "properties": {"max_length": {"type": "integer", "maximum": 512}},
        },
    }
}


def plan(
    spec: trainingrun.TrainingRunSpec = SPEC,
    model: dict[str, Any] | None = MODEL,
    templates: dict[str, dict[str, Any]] | None = None,
    settings: config.Config | None = None,
) -> runplan.JobPlan:
    found = {"hf-advanced": TEMPLATE} if templates is None else templates
    return runplan.plan_job(
        RUN, spec, model_obj=model, template_obj=found.get, settings=settings or config.Config()
    )


def test_a_job_with_params_merged_template_then_model_then_run() -> None:
    planned = plan()
    assert planned.invalid is None
    assert planned.waiting is None
    assert planned.job is not None
    assert planned.job["metadata"]["name"] == builders.job_name("reviews-v1")
    assert planned.job["metadata"]["namespace"] == "demo"
    assert planned.job["metadata"]["ownerReferences"][0]["uid"] == "run-uid"
    pod = planned.job["spec"]["template"]
    doc = json.loads(pod["metadata"]["annotations"][builders.RUN_SPEC_ANNOTATION])
    # the run's max_length over the template's, the model's seed over the template's, and the
    # model's concepts handed to the trainer; the model's template named in the run
    assert doc["spec"]["params"]["max_length"] == 64
    assert doc["spec"]["params"]["seed"] == 3
    assert doc["spec"]["params"]["concepts"] == ["neg", "pos"]
    assert doc["spec"]["template"] == "hf-advanced"


def test_a_run_without_output_writes_to_its_own_folder_of_the_store() -> None:
    spec = SPEC.model_copy(update={"output": None})
    planned = plan(spec, settings=config.Config(artifact_store="pvc://textclf-artifacts/"))
    assert planned.job is not None
    pod = planned.job["spec"]["template"]
    doc = json.loads(pod["metadata"]["annotations"][builders.RUN_SPEC_ANNOTATION])
    assert doc["spec"]["output"] == {"uri": "pvc://textclf-artifacts/demo/reviews/reviews-v1"}
    # the run's identity travels with it: the trainer marks the artifact as this run's
    assert doc["metadata"] == {"name": "reviews-v1", "namespace": "demo", "uid": "run-uid"}
    claims = [
        v["persistentVolumeClaim"] for v in pod["spec"]["volumes"] if "persistentVolumeClaim" in v
    ]
    assert {"claimName": "textclf-artifacts", "readOnly": False} in claims
    # a run that names its output keeps it, whatever the store
    named = plan(settings=config.Config(artifact_store="s3://bucket/prefix"))
    assert named.job is not None
    doc = json.loads(
        named.job["spec"]["template"]["metadata"]["annotations"][builders.RUN_SPEC_ANNOTATION]
    )
    assert doc["spec"]["output"] == {"uri": "pvc://models/reviews"}


def test_a_run_without_output_and_no_store_is_invalid() -> None:
    planned = plan(SPEC.model_copy(update={"output": None}))
    assert planned.job is None
    assert planned.invalid is not None
    assert planned.invalid.startswith("spec.output: left out, and this install has no artifact")


def test_the_model_not_there_yet_is_waited_for() -> None:
    planned = plan(model=None)
    assert planned.job is None
    assert planned.invalid is None
    assert planned.waiting is not None
    assert "spec.modelRef.name" in planned.waiting
    assert "'reviews' does not exist yet in namespace demo" in planned.waiting


def test_the_template_not_there_yet_is_waited_for() -> None:
    planned = plan(templates={})
    assert planned.job is None
    assert planned.waiting == "spec.template: TrainingTemplate 'hf-advanced' does not exist yet"


def test_no_template_anywhere_is_invalid_for_good() -> None:
    planned = plan(model={"spec": {}})
    assert planned.job is None
    assert planned.waiting is None
    assert planned.invalid is not None
    assert planned.invalid.startswith("spec.template: the run names no template")


def test_params_that_break_the_templates_schema_are_invalid() -> None:
    spec = SPEC.model_copy(update={"params": {"max_length": 4096}})
    planned = plan(spec=spec)
    assert planned.job is None
    assert planned.invalid is not None
    assert planned.invalid.startswith("params break template 'hf-advanced': ")
    assert "max_length" in planned.invalid


def test_the_runs_own_template_wins_over_the_models() -> None:
    spec = SPEC.model_copy(update={"template": "other"})
    planned = plan(spec=spec, templates={"other": TEMPLATE})
    assert planned.job is not None
    assert plan(spec=spec).waiting == "spec.template: TrainingTemplate 'other' does not exist yet"


def pod(name: str, controller: str | None) -> dict[str, Any]:
    labels = {} if controller is None else {runplan.CONTROLLER_UID: controller}
    return {"metadata": {"name": name, "labels": labels}}


def test_pods_of_a_job_are_those_its_controller_uid_names() -> None:
    job = {"metadata": {"uid": "job-2"}}
    pods = [pod("old", "job-1"), pod("mine", "job-2"), pod("bare", None)]
    assert [p["metadata"]["name"] for p in runplan.pods_of(job, pods)] == ["mine"]
    assert runplan.pods_of(None, pods) == []


@pytest.mark.parametrize(
    ("job", "run", "wanted"),
    [
        ({"spec": {"suspend": False}}, {"suspend": True}, True),
        ({"spec": {"suspend": True}}, {"suspend": False}, False),
        ({"spec": {"suspend": True}}, {"suspend": True}, None),
        ({"spec": {}}, {"suspend": False}, None),
        (  # a finished Job is left as it is
            {"spec": {}, "status": {"conditions": [{"type": "Complete", "status": "True"}]}},
            {"suspend": True},
            None,
        ),
        ({"spec": {}}, {"suspend": True, "queueName": "gpu"}, None),  # Kueue's to decide
    ],
)
def test_suspend_follows_the_run_unless_finished_or_queued(
    job: dict[str, Any], run: dict[str, Any], wanted: bool | None
) -> None:
    spec = trainingrun.TrainingRunSpec.model_validate({**SPEC_WIRE, **run})
    assert runplan.suspend_change(job, spec) is wanted


def test_runs_waiting_for_a_job_are_those_without_one_and_not_finished() -> None:
    def run(name: str, status: dict[str, Any]) -> dict[str, Any]:
        return {"metadata": {"namespace": "demo", "name": name}, "status": status}

    runs = [
        run("new", {}),
        run("refused", {"code": codes.StatusCode.QUEUED}),
        run("has-job", {"jobName": "has-job", "code": codes.StatusCode.TRAINING}),
        run("failed", {"code": codes.StatusCode.FAILED}),
    ]
    assert runplan.waiting_for_job(runs) == [("demo", "new"), ("demo", "refused")]


def test_a_spec_that_no_longer_parses_fails_the_run_and_says_why() -> None:
    status = runplan.invalid_spec_status(
        trainingrun.TrainingRunStatus(),
        RUN,
        "dataset: field required",
        datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    assert status.code == codes.StatusCode.FAILED
    assert status.description is not None
    assert "spec is invalid: dataset: field required" in status.description


def model_status(
    latest: str | None = None, served: str | None = None, reason: str | None = None
) -> textclassifiermodel.TextClassifierModelStatus:
    wire: dict[str, Any] = {}
    if latest:
        wire["latestVersion"] = {"run": latest}
    if served:
        wire["serving"] = {"version": served}
    if reason:
        wire["conditions"] = [
            {
                "type": conds.SERVING,
                "status": "False",
                "reason": reason,
                "message": f"because {reason}",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ]
    return textclassifiermodel.TextClassifierModelStatus.model_validate(wire)


def test_model_events_on_a_new_version_a_new_served_version_and_serving_trouble() -> None:
    before = model_status(latest="v1", served="v1")
    after = model_status(latest="v2", served="v2", reason=conds.REASON_UNAVAILABLE)
    assert modelreconcile.events(before, after) == [
        ("VersionTrained", "version v2 is now the latest trained version", False),
        ("ServedVersionChanged", "the predictor rolls out version v2 (was v1)", False),
        (f"Serving{conds.REASON_UNAVAILABLE}", f"because {conds.REASON_UNAVAILABLE}", True),
    ]
    assert modelreconcile.events(after, after) == []  # no change, no Event, however often
