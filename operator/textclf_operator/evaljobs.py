"""Pure builder: from a ModelEvaluation (resolved to its version's artifact) to the Job that runs it.

The evaluation Job is a training Job's sibling: the version's template image running ``python -m
textclf_trainer evaluate``, the request mounted as a file from a Pod annotation, ``pvc://`` and
``configmap://`` URIs mounted where the evaluator looks, the same restricted Pod, exit codes and
failure policy. It needs no progress token: an evaluation reports only its result.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from textclf.api import channels, modelevaluation, trainingtemplate
from textclf_operator import builders, config

EVALUATION_LABEL = "textclf.io/evaluation"
"""On an evaluation Job and its Pods: the name of the ModelEvaluation they run."""
COMMAND = [*builders.DEFAULT_COMMAND, "evaluate"]


def job_name(evaluation: str) -> str:
    """The Job of an evaluation (names are at most 52 characters, as runs')."""
    return f"{evaluation}-eval"


def labels(evaluation: str, model: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "textclf-evaluator",
        "app.kubernetes.io/instance": evaluation,
        "app.kubernetes.io/component": "evaluator",
        "app.kubernetes.io/part-of": "textclf",
        builders.MANAGED_BY[0]: builders.MANAGED_BY[1],
        EVALUATION_LABEL: evaluation,
        builders.MODEL_LABEL: model,
    }


def default_output(artifact_uri: str, evaluation: str) -> str:
    """Beside the version's artifact, never inside it (the artifact is sealed by its digest)."""
    parent = artifact_uri.rstrip("/").rsplit("/", 1)[0]
    return f"{parent}/{modelevaluation.EVALUATIONS_DIR}/{evaluation}"


def job(
    *,
    evaluation: Mapping[str, Any],
    spec: modelevaluation.ModelEvaluationSpec,
    request: channels.EvaluationRequest,
    template: trainingtemplate.TrainingTemplateSpec,
    settings: config.Config,
) -> dict[str, Any]:
    """The Job of ``evaluation`` (as the API server returned it) for the resolved ``request``."""
    meta = evaluation["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    own_labels = labels(name, spec.model_ref.name)
    volumes, mounts = builders.uri_volumes(
        [(request.artifact.uri, False), (request.dataset.uri, False), (request.output.uri, True)]
    )
    container: dict[str, Any] = {
        "name": builders.CONTAINER,
        "image": template.image,
        "command": list(COMMAND),
        "env": [
            {"name": channels.RUN_SPEC_ENV, "value": f"{builders.RUN_SPEC_DIR}/run.json"},
            {"name": channels.TERMINATION_MESSAGE_ENV, "value": channels.TERMINATION_MESSAGE_PATH},
            *builders.scratch_env(),
        ],
        "resources": builders.container_resources(spec.resources, template),
        "terminationMessagePath": channels.TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": builders.container_security_context(),
        "volumeMounts": [
            {"name": "run-spec", "mountPath": builders.RUN_SPEC_DIR, "readOnly": True},
            {"name": "scratch", "mountPath": builders.SCRATCH_DIR},
            *mounts,
        ],
    }
    if spec.credentials:
        container["envFrom"] = [{"secretRef": {"name": spec.credentials}}]
    document = json.dumps(request.to_wire(), sort_keys=True)
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.backoff_limit,
        "completions": 1,
        "parallelism": 1,
        "podFailurePolicy": builders.pod_failure_policy(),
        "podReplacementPolicy": "Failed",
        "template": {
            "metadata": {
                "labels": own_labels,
                "annotations": {builders.RUN_SPEC_ANNOTATION: document},
            },
            "spec": {
                "restartPolicy": "Never",
                "serviceAccountName": settings.trainer_service_account,
                "automountServiceAccountToken": False,
                "enableServiceLinks": False,
                "securityContext": builders.pod_security_context(),
                "containers": [container],
                "volumes": [
                    builders.run_spec_volume(),
                    {"name": "scratch", "emptyDir": {"sizeLimit": settings.scratch_size}},
                    *volumes,
                ],
            },
        },
    }
    if spec.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.active_deadline_seconds
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(name),
            "namespace": namespace,
            "labels": own_labels,
            "ownerReferences": [builders.owner_reference(evaluation, modelevaluation.KIND)],
        },
        "spec": job_spec,
    }
