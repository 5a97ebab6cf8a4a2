"""Pure builders: from one served version of a TextClassifierModel to its predictor Deployment and
Service (``spec.serving``).

No I/O here, so both objects are checked whole in unit tests against expected manifests, and the
reconciler can tell by a hash of the desired object (``HASH_ANNOTATION``) whether the stored one is
already what it wants, without a request. The Deployment:

- is named ``serving.predictor_name(model)`` and owned by the model (deleting the model deletes it);
- runs ``python -m textclf_trainer serve`` of the trainer image with ``serving.serve_args``: the run's
  artifact URI and digest, so the server verifies the artifact before it reports ready;
- mounts a ``pvc://`` artifact's claim read-only where the server looks for it (as training does),
  and gives an ``s3://`` or ``https://`` artifact the run's credentials Secret to fetch it with;
- carries the served version in its Pod template (a label and the args), so a new version rolls
  out, never below the asked replicas (``maxUnavailable: 0``);
- runs a Pod that meets the Pod Security "restricted" profile, with no API token.

The Service selects the model's predictor Pods of every version on the named ``http`` port; its
labels are what a ServiceMonitor selects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from textclf.api import serving, textclassifiermodel
from textclf_operator import builders, config

NAME = "textclf-predictor"
"""``app.kubernetes.io/name`` of predictor Deployments, Pods and Services."""
VERSION_LABEL = "textclf.io/version"
"""On the predictor Deployment and its Pods: the TrainingRun they serve."""
HASH_ANNOTATION = "textclf.io/desired-hash"
"""On the Deployment and Service: a hash of what the operator last applied; equal hashes, no write."""
STARTUP_SECONDS = 600
"""How long a predictor may take to fetch and load its artifact before the kubelet restarts it."""
PROGRESS_DEADLINE_SECONDS = STARTUP_SECONDS + 300
"""A rollout that makes no progress for this long is reported Unavailable (ProgressDeadlineExceeded)."""
REMOTE_SCHEMES = ("s3://", "https://")
"""Artifacts the server downloads itself, with the run's credentials."""


@dataclasses.dataclass(frozen=True)
class Served:
    """One version of a model to serve: what the builders need from the model and its run."""

    model: Mapping[str, Any]  # the TextClassifierModel as stored (name, namespace, uid)
    serving: textclassifiermodel.Serving
    version: str  # the TrainingRun's name
    artifact_uri: str
    digest: str | None
    credentials: str | None  # the run's spec.credentials: a Secret in the model's namespace


def labels(model: str, version: str | None = None) -> dict[str, str]:
    """Labels of the predictor objects: the recommended app.kubernetes.io set plus our keys."""
    found = {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/instance": model,
        "app.kubernetes.io/component": serving.COMPONENT,
        "app.kubernetes.io/part-of": "textclf",
        builders.MANAGED_BY[0]: builders.MANAGED_BY[1],
        builders.MODEL_LABEL: model,
    }
    if version is not None:
        found[VERSION_LABEL] = version
    return found


def selector(model: str) -> dict[str, str]:
    """The Pods of ``model``'s predictor, of any version (a Deployment's selector never changes)."""
    return {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/instance": model,
        builders.MODEL_LABEL: model,
    }


def url(model: str, namespace: str) -> str:
    """The predictor's in-cluster URL (the Service listens on port 80)."""
    return f"http://{serving.predictor_name(model)}.{namespace}.svc.cluster.local"


def _metadata(model: Mapping[str, Any], object_labels: dict[str, str]) -> dict[str, Any]:
    meta = model["metadata"]
    return {
        "name": serving.predictor_name(meta["name"]),
        "namespace": meta["namespace"],
        "labels": object_labels,
        "ownerReferences": [builders.owner_reference(model, textclassifiermodel.KIND)],
    }


def _resources(spec: textclassifiermodel.Serving) -> dict[str, Any]:
    if spec.resources is None:
        return {}
    wire = spec.resources.to_wire()
    return {part: {k: str(v) for k, v in wire[part].items()} for part in sorted(wire)}


def _probe(path: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": serving.PORT_NAME},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def deployment(served: Served, settings: config.Config) -> dict[str, Any]:
    """The predictor Deployment of ``served``, stamped with its hash."""
    model = served.model["metadata"]["name"]
    pod_labels = labels(model, served.version)
    volumes, mounts = builders.uri_volumes([(served.artifact_uri, False)])
    container: dict[str, Any] = {
        "name": serving.CONTAINER,
        "image": settings.predictor_image,
        "command": list(builders.DEFAULT_COMMAND),
        "args": serving.serve_args(
            artifact_uri=served.artifact_uri,
            model=model,
            version=served.version,
            digest=served.digest,
        ),
        "env": builders.scratch_env(),
        "ports": [
            {"name": serving.PORT_NAME, "containerPort": serving.CONTAINER_PORT, "protocol": "TCP"}
        ],
        # Ready once the model is loaded and its digest verified; alive while the process answers;
        # the startup probe holds the liveness probe off while a large artifact downloads and loads.
        "startupProbe": _probe(serving.LIVE_PATH, period=5, failures=STARTUP_SECONDS // 5),
        "readinessProbe": _probe(serving.READY_PATH, period=5, failures=3),
        "livenessProbe": _probe(serving.LIVE_PATH, period=10, failures=3),
        "resources": _resources(served.serving),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": builders.container_security_context(),
        "volumeMounts": [{"name": "scratch", "mountPath": builders.SCRATCH_DIR}, *mounts],
    }
    if served.credentials and served.artifact_uri.startswith(REMOTE_SCHEMES):
        container["envFrom"] = [{"secretRef": {"name": served.credentials}}]
    pod_spec: dict[str, Any] = {
        "serviceAccountName": settings.trainer_service_account,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": builders.pod_security_context(),
        "containers": [container],
        "volumes": [
            {"name": "scratch", "emptyDir": {"sizeLimit": settings.scratch_size}},
            *volumes,
        ],
    }
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(served.model, labels(model, served.version)),
        "spec": {
            "replicas": served.serving.replicas,
            "revisionHistoryLimit": 3,
            "progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS,
            "selector": {"matchLabels": selector(model)},
            # A version switch never leaves fewer ready predictors than asked for.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(serving.CONTAINER_PORT),
                        "prometheus.io/path": serving.METRICS_PATH,
                    },
                },
                "spec": pod_spec,
            },
        },
    }
    return stamped(manifest)


def service(model: Mapping[str, Any]) -> dict[str, Any]:
    """The predictor Service of ``model`` (the same for every version), stamped with its hash."""
    name = model["metadata"]["name"]
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(model, labels(name)),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(name),
            "ports": [
                {
                    "name": serving.PORT_NAME,
                    "port": serving.SERVICE_PORT,
                    "targetPort": serving.PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }
    return stamped(manifest)


def _digest(manifest: Mapping[str, Any]) -> str:
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def stamped(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with ``HASH_ANNOTATION`` set to the hash of the rest of it."""
    meta = manifest["metadata"]
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != HASH_ANNOTATION}
    bare = {**manifest, "metadata": {**meta, "annotations": annotations}}
    if not annotations:
        del bare["metadata"]["annotations"]
    return {
        **manifest,
        "metadata": {**meta, "annotations": {**annotations, HASH_ANNOTATION: _digest(bare)}},
    }


def applied_hash(stored: Mapping[str, Any] | None) -> str | None:
    """The hash a stored object carries (None if it is absent or carries none)."""
    if stored is None:
        return None
    annotations = (stored.get("metadata") or {}).get("annotations") or {}
    found = annotations.get(HASH_ANNOTATION)
    return str(found) if found is not None else None


def served_version(stored: Mapping[str, Any]) -> str | None:
    """The version a stored predictor Deployment's Pod template runs."""
    template = ((stored.get("spec") or {}).get("template") or {}).get("metadata") or {}
    found = (template.get("labels") or {}).get(VERSION_LABEL)
    return str(found) if found is not None else None


def controlled_by(stored: Mapping[str, Any], owner_uid: str) -> bool:
    """Whether ``owner_uid`` is the controller of ``stored`` (only then may we change or delete it)."""
    owners = (stored.get("metadata") or {}).get("ownerReferences") or []
    return any(o.get("uid") == owner_uid and o.get("controller") for o in owners)
