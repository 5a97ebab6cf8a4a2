"""The pure half of serving: which version ``spec.serving`` resolves to, and what the Serving condition
and ``status.serving`` say for a given Deployment status (including the ones the test control plane
cannot produce in a test's time, such as ProgressDeadlineExceeded)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from textclf.api import conditions as conds
from textclf.api import textclassifiermodel
from textclf_operator import modelstatus, predictors, servingstatus

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
MODEL = {
    "metadata": {"name": "reviews", "namespace": "demo", "uid": "m-uid", "generation": 1},
    "spec": {"serving": {"enabled": True}},
}
DIGEST = "sha256:" + "cd" * 32


def _run(name: str, *, model: str = "reviews", trained: bool = True, **spec: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"code": "MODEL-TRAINING"}
    if trained:
        status = {
            "code": "MODEL-TRAINED",
            "completionTime": "2026-01-01T00:00:00Z",
            "artifact": {"uri": f"s3://models/{name}", "digest": DIGEST},
        }
    return {
        "metadata": {
            "name": name,
            "namespace": "demo",
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {"modelRef": {"name": model}, **spec},
        "status": status,
    }


def _choose(version: str | None, runs: list[dict[str, Any]]) -> servingstatus.Choice:
    spec = textclassifiermodel.Serving(enabled=True, version=version)
    own = [r for r in runs if r["spec"]["modelRef"]["name"] == "reviews"]
    named = {r["metadata"]["name"]: r for r in runs}
    return servingstatus.choose(MODEL, spec, named.get, modelstatus.latest_version(own, NOW))


def test_empty_version_serves_the_latest_trained_with_its_artifact() -> None:
    choice = _choose(None, [_run("reviews-v1", credentials="s3-creds")])
    assert choice.served is not None
    assert choice.served.version == "reviews-v1"
    assert choice.served.artifact_uri == "s3://models/reviews-v1"
    assert choice.served.digest == DIGEST
    assert choice.served.credentials == "s3-creds"


def test_a_trained_run_without_its_artifact_is_no_version_yet() -> None:
    unread = _run("reviews-v2")
    unread["metadata"]["creationTimestamp"] = "2026-01-02T00:00:00Z"
    unread["status"]["completionTime"] = "2026-01-02T00:00:00Z"
    del unread["status"]["artifact"]  # trained, its result not yet read from the Pod
    latest = modelstatus.latest_version([_run("reviews-v1"), unread], NOW)
    assert latest is not None
    assert latest.run == "reviews-v1"
    assert modelstatus.latest_version([unread], NOW) is None


def test_no_trained_version() -> None:
    choice = _choose("", [_run("reviews-v1", trained=False)])
    assert choice.served is None
    assert choice.reason == conds.REASON_NO_TRAINED_VERSION


@pytest.mark.parametrize(
    ("runs", "said"),
    [
        ([], "'pinned' does not exist in namespace demo"),
        ([_run("pinned", model="other")], "'pinned' trains model 'other', not 'reviews'"),
        ([_run("pinned", trained=False)], "'pinned' is MODEL-TRAINING, not MODEL-TRAINED"),
    ],
)
def test_version_not_found_says_which(runs: list[dict[str, Any]], said: str) -> None:
    choice = _choose("pinned", runs)
    assert choice.served is None
    assert choice.reason == conds.REASON_VERSION_NOT_FOUND
    assert said in choice.message
    assert choice.message.startswith("spec.serving.version: ")


def test_disabled() -> None:
    choice = servingstatus.choose(MODEL, None, {"reviews-v1": _run("reviews-v1")}.get, None)
    assert (choice.enabled, choice.reason) == (False, conds.REASON_SERVING_DISABLED)


def _deployment(
    *,
    version: str = "reviews-v1",
    desired: int = 2,
    generation: int = 1,
    **status: Any,
) -> dict[str, Any]:
    return {
        "metadata": {"name": "reviews-predictor", "namespace": "demo", "generation": generation},
        "spec": {
            "replicas": desired,
            "template": {"metadata": {"labels": {predictors.VERSION_LABEL: version}}},
        },
        "status": status,
    }


def _progressing(reason: str, status: str = "True", message: str = "") -> dict[str, str]:
    return {"type": "Progressing", "status": status, "reason": reason, "message": message}


AVAILABLE_FALSE = {
    "type": "Available",
    "status": "False",
    "reason": "MinimumReplicasUnavailable",
    "message": "Deployment does not have minimum availability.",
}


@pytest.mark.parametrize(
    ("deployment", "expected", "said"),
    [
        (None, ("Unknown", conds.REASON_ROLLING_OUT), "creating the predictor Deployment"),
        (
            _deployment(),
            ("Unknown", conds.REASON_ROLLING_OUT),
            "has not yet observed generation 1",
        ),
        (
            _deployment(
                observedGeneration=1,
                replicas=2,
                updatedReplicas=2,
                readyReplicas=1,
                availableReplicas=1,
                conditions=[_progressing("ReplicaSetUpdated"), AVAILABLE_FALSE],
            ),
            ("Unknown", conds.REASON_ROLLING_OUT),
            "rolling out version reviews-v1: 1 of 2 replicas ready",
        ),
        (
            _deployment(
                observedGeneration=1,
                replicas=3,
                updatedReplicas=1,
                readyReplicas=2,
                availableReplicas=2,
                conditions=[_progressing("ReplicaSetUpdated")],
            ),
            ("Unknown", conds.REASON_ROLLING_OUT),
            "2 of 2 replicas ready, 2 of an earlier version still running",
        ),
        (
            _deployment(
                observedGeneration=1,
                replicas=2,
                updatedReplicas=2,
                readyReplicas=2,
                availableReplicas=2,
                conditions=[_progressing("NewReplicaSetAvailable")],
            ),
            ("True", conds.REASON_PREDICTOR_READY),
            "version reviews-v1: 2 of 2 replicas ready",
        ),
        (
            _deployment(
                observedGeneration=1,
                replicas=2,
                updatedReplicas=2,
                readyReplicas=1,
                availableReplicas=1,
                conditions=[_progressing("NewReplicaSetAvailable"), AVAILABLE_FALSE],
            ),
            ("False", conds.REASON_UNAVAILABLE),
            "1 of 2 replicas ready; Deployment does not have minimum availability. "
            "(Available=False, MinimumReplicasUnavailable)",
        ),
        (
            _deployment(
                observedGeneration=1,
                replicas=2,
                updatedReplicas=2,
                readyReplicas=0,
                conditions=[
                    _progressing(
                        "ProgressDeadlineExceeded",
                        "False",
                        'ReplicaSet "reviews-predictor-5d8f" has timed out progressing.',
                    )
                ],
            ),
            ("False", conds.REASON_UNAVAILABLE),
            "has timed out progressing. (Progressing=False, ProgressDeadlineExceeded)",
        ),
        (
            _deployment(version="reviews-v0", observedGeneration=1),
            ("Unknown", conds.REASON_ROLLING_OUT),
            "the predictor Deployment still runs reviews-v0",
        ),
        (
            _deployment(desired=0, observedGeneration=1),
            ("False", conds.REASON_SCALED_TO_ZERO),
            "replicas is 0",
        ),
    ],
)
def test_condition_follows_the_deployment(
    deployment: dict[str, Any] | None, expected: tuple[str, str], said: str
) -> None:
    choice = _choose(None, [_run("reviews-v1")])
    status, reason, message = servingstatus.condition(
        servingstatus.Observed(choice=choice, deployment=deployment)
    )
    assert (status, reason) == expected
    assert said in message


def test_refused_predictor_says_why() -> None:
    choice = _choose(None, [_run("reviews-v1")])
    observed = servingstatus.Observed(choice=choice, deployment=None, refused="bad quantity")
    assert servingstatus.condition(observed) == (
        "False",
        conds.REASON_PREDICTOR_REFUSED,
        "bad quantity",
    )


def test_unresolvable_version_leaves_the_running_predictor_and_says_so() -> None:
    choice = _choose("typo", [_run("reviews-v1")])
    running = _deployment(observedGeneration=1, readyReplicas=2)
    status, reason, message = servingstatus.condition(
        servingstatus.Observed(choice=choice, deployment=running)
    )
    assert (status, reason) == ("False", conds.REASON_VERSION_NOT_FOUND)
    assert message.endswith("the predictor still runs version reviews-v1 (2 ready)")


def test_model_status_carries_url_version_and_ready_replicas() -> None:
    runs = [_run("reviews-v1")]
    choice = _choose(None, runs)
    deployment = _deployment(
        observedGeneration=1,
        replicas=2,
        updatedReplicas=2,
        readyReplicas=2,
        availableReplicas=2,
        conditions=[_progressing("NewReplicaSetAvailable")],
    )
    status = modelstatus.compute(
        MODEL, runs, NOW, servingstatus.Observed(choice=choice, deployment=deployment)
    )
    assert status.serving == textclassifiermodel.ServingStatus(
        url="http://reviews-predictor.demo.svc.cluster.local",
        version="reviews-v1",
        ready_replicas=2,
    )
    serving = conds.find(status.conditions, conds.SERVING)
    assert serving is not None
    assert (serving.status, serving.reason, serving.observed_generation) == ("True", "Ready", 1)
    off = modelstatus.compute(MODEL, runs, NOW)
    assert off.serving is None
    assert conds.find(off.conditions, conds.SERVING) is not None
