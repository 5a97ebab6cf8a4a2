"""Pure builders: from a TrainingRun (and its template and model) to the ``batch/v1`` Job that trains it.

No I/O here, so the whole Job is checked in unit tests against an expected manifest. The Job:

- has a deterministic name and an owner reference to the run (deleting the run deletes Job and Pods);
- runs the template's image and command with the run spec, params merged, mounted as a file from a
  Pod annotation through the downward API (no extra object to create, update or garbage-collect);
- mounts ``pvc://`` and ``configmap://`` datasets and outputs where the trainer looks for them;
- fails at once on the trainer's user-error exit codes and ignores disruptions (``podFailurePolicy``);
- carries Kueue's queue label and starts suspended when queued, so Kueue admits it;
- runs a Pod that meets the Pod Security "restricted" profile, with no API token but a projected
  token of the progress audience.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from textclf.api import API_VERSION, channels, codes, trainingrun, trainingtemplate
from textclf_operator import config

RUN_LABEL = "textclf.io/run"
"""On the Job and its Pods: the name of the TrainingRun they train."""
MODEL_LABEL = "textclf.io/model"
"""On training Jobs and Pods and on predictor Deployments, Pods and Services: the model's name."""
RUN_SPEC_ANNOTATION = "textclf.io/run-spec"
"""Pod annotation holding the run spec the trainer reads (mounted as a file via the downward API)."""
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
RUN_SPEC_DIR = "/etc/textclf/run"
TOKEN_DIR = "/var/run/secrets/textclf.io/progress"
SCRATCH_DIR = "/scratch"
CONTAINER = "trainer"
GPU_RESOURCE = "nvidia.com/gpu"
DEFAULT_COMMAND = ["python", "-m", "textclf_trainer"]


def job_name(run_name: str) -> str:
    """The Job of a run: the run's name, marked (names of runs are at most 52 characters)."""
    return f"{run_name}-train"


MANAGED_BY = ("app.kubernetes.io/managed-by", "textclf-operator")
"""On every object the operator makes (training and evaluation Jobs and Pods, predictors)."""
MANAGED_SELECTOR = "=".join(MANAGED_BY)
"""The label selector of the operator's own objects: its watches ask the API server for these only."""


def labels(run_name: str, model_name: str) -> dict[str, str]:
    """Labels of the Job and its Pods: the recommended app.kubernetes.io set plus our keys."""
    return {
        "app.kubernetes.io/name": "textclf-trainer",
        "app.kubernetes.io/instance": run_name,
        "app.kubernetes.io/component": "trainer",
        "app.kubernetes.io/part-of": "textclf",
        MANAGED_BY[0]: MANAGED_BY[1],
        RUN_LABEL: run_name,
        MODEL_LABEL: model_name,
    }


_URI = re.compile(r"^(?P<scheme>pvc|configmap)://(?P<name>[^/]+)(?P<rest>/.*)?$")


def _volume_name(kind: str, name: str) -> str:
    safe = re.sub(r"[^a-z0-9-]", "-", name.lower())
    return f"{kind}-{safe}"[:63].rstrip("-")


def _mounts(spec: trainingrun.TrainingRunSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts for every pvc:// and configmap:// URI of the run (each source once)."""
    uris = [(spec.dataset.train.uri, False)]
    if spec.dataset.test is not None:
        uris.append((spec.dataset.test.uri, False))
    if spec.output is None:  # runplan gives every run its output (the store's folder) first
        raise ValueError("the run spec has no output")
    uris.append((spec.output.uri, True))
    return uri_volumes(uris)


def uri_volumes(
    uris: Sequence[tuple[str, bool]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Volumes and mounts for the pvc:// and configmap:// URIs among ``uris`` ((uri, writable)
    pairs), each source once and read-only unless a URI on it is written; other schemes need none.
    Shared by the training Job and the predictor Deployment (``predictors``)."""
    writable: dict[tuple[str, str], bool] = {}
    for uri, write in uris:
        match = _URI.match(uri)
        if match:
            key = (match["scheme"], match["name"])
            writable[key] = writable.get(key, False) or write
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    for (scheme, name), write in sorted(writable.items()):
        volume = _volume_name(scheme, name)
        if scheme == "pvc":
            source: dict[str, Any] = {
                "persistentVolumeClaim": {"claimName": name, "readOnly": not write}
            }
            root = channels.PVC_MOUNT_ROOT
        else:
            source = {"configMap": {"name": name}}
            root = channels.CONFIGMAP_MOUNT_ROOT
        volumes.append({"name": volume, **source})
        mounts.append({"name": volume, "mountPath": f"{root}/{name}", "readOnly": not write})
    return volumes, mounts


def container_resources(
    own: trainingrun.Resources | None, template: trainingtemplate.TrainingTemplateSpec
) -> dict[str, Any]:
    """Requests and limits: the object's own, else the template's defaults (memory limit = request)."""
    defaults = template.resources or trainingtemplate.TemplateResources()
    gpu = own.gpu if own is not None and "gpu" in own.model_fields_set else defaults.gpu
    cpu = own.cpu if own is not None and own.cpu is not None else defaults.cpu
    memory = own.memory if own is not None and own.memory is not None else defaults.memory
    requests: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    if cpu is not None:
        requests["cpu"] = str(cpu)
    if memory is not None:
        requests["memory"] = str(memory)
        limits["memory"] = str(memory)  # memory is not compressible: limit = request
    if gpu:
        requests[GPU_RESOURCE] = str(gpu)
        limits[GPU_RESOURCE] = str(gpu)
    resources: dict[str, Any] = {}
    if requests:
        resources["requests"] = requests
    if limits:
        resources["limits"] = limits
    return resources


def scratch_env() -> list[dict[str, str]]:
    """HOME, caches and temporary files on the scratch emptyDir (the root filesystem is read-only)."""
    return [
        {"name": "HOME", "value": SCRATCH_DIR},
        {"name": "HF_HOME", "value": f"{SCRATCH_DIR}/huggingface"},
        {"name": "TMPDIR", "value": SCRATCH_DIR},  # exists: the emptyDir itself
        {"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"},
    ]


def pod_security_context() -> dict[str, Any]:
    """The Pod part of the "restricted" Pod Security profile, as a fixed non-root user."""
    return {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    """The container part of the "restricted" profile, with a read-only root filesystem."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def owner_reference(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The controller owner reference to ``body`` (one of our kinds): garbage collection deletes
    the owned object with it, and the owner cannot vanish before its dependents in foreground
    deletion."""
    meta = body["metadata"]
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_failure_policy() -> dict[str, Any]:
    """User errors fail the Job at once; disruptions (preemption, drain) do not count as failures."""
    return {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER,
                    "operator": "In",
                    "values": list(codes.USER_ERROR_EXIT_CODES),
                },
            },
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
        ]
    }


def run_spec_volume() -> dict[str, Any]:
    """The volume of the run file: the Pod's own ``RUN_SPEC_ANNOTATION``, through the downward API."""
    return {
        "name": "run-spec",
        "downwardAPI": {
            "items": [
                {
                    "path": "run.json",
                    "fieldRef": {"fieldPath": f"metadata.annotations['{RUN_SPEC_ANNOTATION}']"},
                }
            ]
        },
    }


def run_document(
    meta: Mapping[str, Any],
    spec: trainingrun.TrainingRunSpec,
    merged_params: Mapping[str, Any],
) -> str:
    """The run file the trainer reads: the TrainingRun with its effective params and output, and
    its identity (the trainer marks the artifact with it, so no other run overwrites it)."""
    effective = spec.model_copy(update={"params": dict(merged_params)})
    return json.dumps(
        {
            "apiVersion": API_VERSION,
            "kind": trainingrun.KIND,
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]},
            "spec": effective.to_wire(),
        },
        sort_keys=True,
    )


def job(
    *,
    run: Mapping[str, Any],
    spec: trainingrun.TrainingRunSpec,
    template: trainingtemplate.TrainingTemplateSpec,
    merged_params: Mapping[str, Any],
    settings: config.Config,
) -> dict[str, Any]:
    """The training Job of ``run`` (a TrainingRun object as the API server returned it)."""
    meta = run["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    run_labels = labels(name, spec.model_ref.name)
    volumes, mounts = _mounts(spec)
    queued = spec.queue_name is not None
    job_labels = dict(run_labels)
    if queued:
        job_labels[QUEUE_LABEL] = str(spec.queue_name)
    env = [
        {"name": channels.RUN_SPEC_ENV, "value": f"{RUN_SPEC_DIR}/run.json"},
        {"name": channels.PROGRESS_URL_ENV, "value": settings.progress_url},
        {"name": channels.PROGRESS_TOKEN_PATH_ENV, "value": f"{TOKEN_DIR}/token"},
        {"name": channels.TERMINATION_MESSAGE_ENV, "value": channels.TERMINATION_MESSAGE_PATH},
        *scratch_env(),
    ]
    if settings.progress_ca:
        env.append({"name": channels.PROGRESS_CA_ENV, "value": settings.progress_ca})
    resources = container_resources(spec.resources, template)
    gpus = int(resources.get("limits", {}).get(GPU_RESOURCE, 0))
    if gpus > 1:  # one DDP rank per GPU, launched by the trainer (torchrun's launcher)
        env.append({"name": channels.NPROC_PER_NODE_ENV, "value": str(gpus)})
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": template.image,
        "command": list(template.command or DEFAULT_COMMAND),
        "env": env,
        "resources": resources,
        "terminationMessagePath": channels.TERMINATION_MESSAGE_PATH,
        # The trainer writes its result there; if it dies before, the log tail tells why.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": container_security_context(),
        "volumeMounts": [
            {"name": "run-spec", "mountPath": RUN_SPEC_DIR, "readOnly": True},
            {"name": "progress-token", "mountPath": TOKEN_DIR, "readOnly": True},
            {"name": "scratch", "mountPath": SCRATCH_DIR},
            {"name": "shm", "mountPath": "/dev/shm"},
            *mounts,
        ],
    }
    if spec.credentials:
        container["envFrom"] = [{"secretRef": {"name": spec.credentials}}]
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "serviceAccountName": settings.trainer_service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "containers": [container],
        "volumes": [
            run_spec_volume(),
            {
                "name": "progress-token",
                "projected": {
                    "sources": [
                        {
                            "serviceAccountToken": {
                                "audience": channels.PROGRESS_AUDIENCE,
                                "expirationSeconds": settings.progress_token_seconds,
                                "path": "token",
                            }
                        }
                    ]
                },
            },
            {"name": "scratch", "emptyDir": {"sizeLimit": settings.scratch_size}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
            *volumes,
        ],
    }
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.tolerations:
        pod_spec["tolerations"] = [t.to_wire() for t in spec.tolerations]
    if spec.priority_class_name:
        pod_spec["priorityClassName"] = spec.priority_class_name
    job_spec: dict[str, Any] = {
        "backoffLimit": spec.backoff_limit,
        "completions": 1,
        "parallelism": 1,
        "suspend": queued or spec.suspend,
        "podFailurePolicy": pod_failure_policy(),
        "podReplacementPolicy": "Failed",  # podFailurePolicy needs it: no overlap of attempts
        "template": {
            "metadata": {
                "labels": run_labels,
                "annotations": {RUN_SPEC_ANNOTATION: run_document(meta, spec, merged_params)},
            },
            "spec": pod_spec,
        },
    }
    if spec.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = spec.active_deadline_seconds
    # No ttlSecondsAfterFinished on the Job: the Job controller would delete the Pods, and with them
    # the result in their termination message, whether or not the operator has copied it yet. The
    # reconciler deletes the Job that long after the run's status holds the result (``expiry``).
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(name),
            "namespace": namespace,
            "labels": job_labels,
            "ownerReferences": [owner_reference(run, trainingrun.KIND)],
        },
        "spec": job_spec,
    }
