"""The only module that talks to the Kubernetes API (kopf's watches aside).

Everything else receives and returns plain dicts, so builders and status computation stay pure and
this seam is the one place where requests can be counted, retried or faked. Calls are synchronous
(the official client); the reconciler runs them in a worker thread.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import kubernetes

from textclf.api import API_VERSION, GROUP, VERSION
from textclf_operator import metrics

_local = threading.local()


def _api_client() -> kubernetes.client.ApiClient:
    """This thread's client for the current credentials (keyed by them: tests run several
    operators in one process, as different users)."""
    in_cluster = bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    key = "in-cluster" if in_cluster else os.environ.get("KUBECONFIG", "")
    clients: dict[str, kubernetes.client.ApiClient] = getattr(_local, "clients", {})
    _local.clients = clients
    if key not in clients:
        if in_cluster:
            kubernetes.config.load_incluster_config()  # type: ignore[no-untyped-call]
            clients[key] = kubernetes.client.ApiClient()
        else:
            # $KUBECONFIG read now, not when the kubernetes package was imported.
            clients[key] = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
                config_file=key or None
            )
    return clients[key]


def _count(call: str) -> None:
    metrics.API_REQUESTS.labels(call).inc()


def _json(response: Any) -> dict[str, Any]:
    """The JSON body of a call made with ``_preload_content=False``: the client's model classes are
    skipped (building a Job's and taking it apart again costs more than the request at scale).
    Non-2xx answers still raise ``ApiException``, with the body."""
    return cast("dict[str, Any]", json.loads(response.data))


def _done(response: Any) -> None:
    """Finish a call made with ``_preload_content=False`` whose answer is not needed: read what is
    left and hand the connection back to the pool. An unread response keeps its connection, so the
    next request opens a new one, with a TLS handshake on both ends (at 1,000 runs, the operator's
    largest cost, and the API server's)."""
    response.drain_conn()
    response.release_conn()


def _found(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What ``read`` returns, or None when the API server has no such object (404)."""
    try:
        return read()
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            return None
        raise


def _to_dict(obj: Any) -> dict[str, Any]:
    return cast("dict[str, Any]", _api_client().sanitize_for_serialization(obj))  # type: ignore[no-untyped-call]


class Refused(Exception):
    """The API server refused an object as invalid (422); retrying the same object cannot help."""


REJECTIONS = (403, 500)
"""Answers to a create that the user must hear of: a ResourceQuota's or a webhook's 403, and the
500 of a webhook that failed to answer."""


class Rejected(Exception):
    """The API server would not create the object now (``REJECTIONS``): what it said, to show and
    to retry with backoff."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    def describe(self, job: str) -> str:
        """What a run's or an evaluation's status says of it."""
        return (
            f"the API server refused to create Job {job} ({self.status}): {self.message}; "
            "retrying with backoff"
        )


def _refusal(err: kubernetes.client.ApiException) -> str:
    try:
        return str(json.loads(err.body or "{}").get("message") or err.reason)
    except ValueError:
        return str(err.reason)


def create_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """Create the Job, or return the existing one of that name (after a restart, or a race; it may
    belong to another run). Raises ``Refused`` for an invalid Job, ``Rejected`` for any other
    refusal."""
    batch = kubernetes.client.BatchV1Api(_api_client())
    namespace = job["metadata"]["namespace"]
    _count("create_job")
    try:
        return _json(
            batch.create_namespaced_job(namespace, cast("Any", dict(job)), _preload_content=False)
        )
    except kubernetes.client.ApiException as err:
        if err.status in (400, 422):
            raise Refused(_refusal(err)) from err
        if err.status in REJECTIONS:
            raise Rejected(int(err.status), _refusal(err)) from err
        if err.status != 409:
            raise  # the API server is busy or starting (429, 503): retried, not worth a word
    existing = read_job(namespace, job["metadata"]["name"])
    if existing is None:
        raise RuntimeError(f"Job {job['metadata']['name']} conflicts but cannot be read")
    return existing


def read_job(namespace: str, name: str) -> dict[str, Any] | None:
    """The Job, or None if the API server has none of that name."""
    batch = kubernetes.client.BatchV1Api(_api_client())
    _count("read_job")
    return _found(lambda: _json(batch.read_namespaced_job(name, namespace, _preload_content=False)))


def set_job_suspend(namespace: str, name: str, suspend: bool) -> None:
    batch = kubernetes.client.BatchV1Api(_api_client())
    _count("set_job_suspend")
    batch.patch_namespaced_job(name, namespace, {"spec": {"suspend": suspend}})


FIELD_MANAGER = "textclf-operator"
"""The field manager of the operator's server-side applies (predictor Deployments and Services)."""


def apply(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Server-side apply of a Deployment or Service the operator owns: creates it, or updates the
    fields the operator manages (and removes those it no longer sets), taking them over from anyone
    who changed them by hand. The stored object."""
    meta = manifest["metadata"]
    name, namespace = meta["name"], meta["namespace"]
    options: dict[str, Any] = {
        "field_manager": FIELD_MANAGER,
        "force": True,
        "_content_type": "application/apply-patch+yaml",
    }
    body = cast("Any", dict(manifest))
    stored: Any
    _count("apply")
    try:
        if manifest["kind"] == "Deployment":
            apps = kubernetes.client.AppsV1Api(_api_client())
            stored = apps.patch_namespaced_deployment(name, namespace, body, **options)
        elif manifest["kind"] == "Service":
            core = kubernetes.client.CoreV1Api(_api_client())
            stored = core.patch_namespaced_service(name, namespace, body, **options)
        else:
            raise ValueError(f"apply knows no {manifest['kind']}")
    except kubernetes.client.ApiException as err:
        if err.status in (400, 422):
            raise Refused(_refusal(err)) from err
        raise
    return _to_dict(stored)


def delete(kind: str, namespace: str, name: str, uid: str) -> None:
    """Delete the Deployment, Service or Job ``uid`` (never a re-created namesake); its Pods go by
    garbage collection. Already gone, or replaced by another object of that name: nothing to do."""
    options = kubernetes.client.V1DeleteOptions(
        preconditions=kubernetes.client.V1Preconditions(uid=uid),
        propagation_policy="Background",
    )
    _count("delete")
    try:
        if kind == "Deployment":
            apps = kubernetes.client.AppsV1Api(_api_client())
            apps.delete_namespaced_deployment(name, namespace, body=options)
        elif kind == "Service":
            core = kubernetes.client.CoreV1Api(_api_client())
            core.delete_namespaced_service(name, namespace, body=options)
        elif kind == "Job":
            batch = kubernetes.client.BatchV1Api(_api_client())
            batch.delete_namespaced_job(name, namespace, body=options)
        else:
            raise ValueError(f"delete knows no {kind}")
    except kubernetes.client.ApiException as err:
        if err.status not in (404, 409):
            raise


def list_objects(plural: str, label_selector: str = "") -> tuple[list[dict[str, Any]], str]:
    """Every object of one kind the operator watches, in all namespaces (``label_selector`` as the
    API server reads it), as watch events carry them, and the list's resourceVersion: what a
    fresh cache starts from, and what a resync compares it with."""
    client = _api_client()
    _count("list_objects")
    if plural in CUSTOM_KINDS:
        custom = kubernetes.client.CustomObjectsApi(client)
        listed: dict[str, Any] = cast(
            "dict[str, Any]",
            custom.list_cluster_custom_object(
                GROUP, VERSION, plural, label_selector=label_selector
            ),
        )
        version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
        return [dict(item) for item in listed.get("items") or []], version
    api_version, kind, call = {
        "jobs": (
            "batch/v1",
            "Job",
            kubernetes.client.BatchV1Api(client).list_job_for_all_namespaces,
        ),
        "pods": ("v1", "Pod", kubernetes.client.CoreV1Api(client).list_pod_for_all_namespaces),
        "services": (
            "v1",
            "Service",
            kubernetes.client.CoreV1Api(client).list_service_for_all_namespaces,
        ),
        "deployments": (
            "apps/v1",
            "Deployment",
            kubernetes.client.AppsV1Api(client).list_deployment_for_all_namespaces,
        ),
    }[plural]
    raw = _json(call(label_selector=label_selector, _preload_content=False))
    items = [{**item, "apiVersion": api_version, "kind": kind} for item in raw.get("items") or []]
    return items, str((raw.get("metadata") or {}).get("resourceVersion") or "")


CUSTOM_KINDS = frozenset(
    {"trainingruns", "textclassifiermodels", "modelevaluations", "trainingtemplates"}
)


def write_status(
    plural: str, namespace: str, name: str, uid: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Replace the status of the object ``uid`` (never a re-created namesake); the stored object.
    ``namespace`` is empty for cluster-scoped kinds (TrainingTemplate)."""
    custom = kubernetes.client.CustomObjectsApi(_api_client())
    _count("write_status")
    # JSON Patch: "test" pins the object's identity; "add" replaces the whole status, so fields
    # that went away are removed, not merged.
    patch: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/uid", "value": uid},
        {"op": "add", "path": "/status", "value": status},
    ]
    json_patch = "application/json-patch+json"
    if namespace:
        stored = custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, plural, name, patch, _content_type=json_patch
        )
    else:
        stored = custom.patch_cluster_custom_object_status(
            GROUP, VERSION, plural, name, patch, _content_type=json_patch
        )
    return cast("dict[str, Any]", stored)


def post_event(obj: Mapping[str, Any], *, reason: str, message: str, warning: bool = False) -> None:
    """A core/v1 Event about ``obj`` (a TrainingRun or TextClassifierModel body)."""
    meta = obj["metadata"]
    now = datetime.datetime.now(datetime.UTC)
    core = kubernetes.client.CoreV1Api(_api_client())
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{uuid.uuid4().hex[:12]}",
            "namespace": meta["namespace"],
        },
        "involvedObject": {
            "apiVersion": obj.get("apiVersion", API_VERSION),
            "kind": obj["kind"],
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "reason": reason,
        "message": message[:1024],
        "type": "Warning" if warning else "Normal",
        "source": {"component": "textclf-operator"},
        "reportingComponent": "textclf.io/operator",
        "reportingInstance": os.environ.get("POD_NAME", "textclf-operator"),
        "firstTimestamp": now.isoformat(),
        "lastTimestamp": now.isoformat(),
        "count": 1,
    }
    _count("post_event")
    _done(
        core.create_namespaced_event(meta["namespace"], cast("Any", event), _preload_content=False)
    )


def review_token(token: str, audience: str) -> dict[str, Any]:
    """The TokenReview status of ``token`` for ``audience`` (authenticated, user, audiences)."""
    auth = kubernetes.client.AuthenticationV1Api(_api_client())
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, "audiences": [audience]},
    }
    _count("review_token")
    return cast(
        "dict[str, Any]",
        _to_dict(auth.create_token_review(cast("Any", review))).get("status") or {},
    )


def read_secret(namespace: str, name: str) -> dict[str, Any] | None:
    """The Secret, or None if there is none of that name."""
    core = kubernetes.client.CoreV1Api(_api_client())
    _count("read_secret")
    return _found(lambda: _to_dict(core.read_namespaced_secret(name, namespace)))


def create_secret(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    """Create an Opaque Secret of base64 ``data``; if another process made one of that name first,
    return theirs, so every replica ends up with the same content."""
    core = kubernetes.client.CoreV1Api(_api_client())
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "textclf-operator"},
        },
        "type": "Opaque",
        "data": data,
    }
    _count("create_secret")
    try:
        return _to_dict(core.create_namespaced_secret(namespace, cast("Any", secret)))
    except kubernetes.client.ApiException as err:
        if err.status != 409:
            raise
    existing = read_secret(namespace, name)
    if existing is None:
        raise RuntimeError(f"Secret {namespace}/{name} conflicts but cannot be read")
    return existing


def read_lease(namespace: str, name: str) -> dict[str, Any] | None:
    """The leader-election Lease, or None before anyone took it."""
    coordination = kubernetes.client.CoordinationV1Api(_api_client())
    _count("read_lease")
    return _found(lambda: _to_dict(coordination.read_namespaced_lease(name, namespace)))


def write_lease(
    namespace: str, name: str, spec: Mapping[str, Any], resource_version: str | None
) -> dict[str, Any]:
    """Create the Lease (no ``resource_version``) or replace the version that was read: a
    replica that wrote in between makes this fail with 409, so two never both think they lead."""
    coordination = kubernetes.client.CoordinationV1Api(_api_client())
    body: dict[str, Any] = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": dict(spec),
    }
    _count("write_lease")
    if resource_version is None:
        return _to_dict(coordination.create_namespaced_lease(namespace, cast("Any", body)))
    body["metadata"]["resourceVersion"] = resource_version
    return _to_dict(coordination.replace_namespaced_lease(name, namespace, cast("Any", body)))
