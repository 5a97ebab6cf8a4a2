"""The only module that talks to the Kubernetes API (kopf's watches aside).

Everything else receives and returns plain dicts, so builders and status computation stay pure and
this seam is the one place where requests can be counted, retried or faked. Calls are synchronous
(the official client's configuration, authentication and connection pool; the reconciler runs
them in a worker thread) and go by path with plain dicts, not through the generated API classes:
those validate every body into model classes and back (at 1,000 runs, more CPU than the request)
and importing them costs the process about 30 MiB.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
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


def _request(
    method: str,
    path: str,
    body: Any = None,
    *,
    params: Mapping[str, str] | None = None,
    query: Sequence[tuple[str, str]] = (),
    content_type: str = "application/json",
) -> dict[str, Any]:
    """One request: ``path`` has ``{name}`` placeholders for ``params``, ``query`` is appended.
    The answer's JSON; a non-2xx answer raises ``ApiException`` with its status and body, as the
    generated methods do."""
    client = _api_client()
    method, url, headers, payload, _form = client.param_serialize(
        method=method,
        resource_path=path,
        path_params=dict(params or {}),
        query_params=list(query),
        header_params={"Accept": "application/json", "Content-Type": content_type},
        body=body,
        auth_settings=["BearerToken"],
    )
    response: Any = client.call_api(method, url, headers, payload)  # RESTResponse, untyped
    response.read()
    if not 200 <= response.status <= 299:
        raise kubernetes.client.ApiException(http_resp=response)
    return cast("dict[str, Any]", json.loads(response.data))


def _found(read: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """What ``read`` returns, or None when the API server has no such object (404)."""
    try:
        return read()
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            return None
        raise


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


OBJECT_PATHS = {
    "Job": "/apis/batch/v1/namespaces/{namespace}/jobs",
    "Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments",
    "Service": "/api/v1/namespaces/{namespace}/services",
}
"""Where the objects the operator makes live (their names follow, as ``/{name}``)."""
EVENTS_PATH = "/api/v1/namespaces/{namespace}/events"
SECRETS_PATH = "/api/v1/namespaces/{namespace}/secrets"
LEASES_PATH = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
CUSTOM_PATH = f"/apis/{GROUP}/{VERSION}"
LISTS = {
    "jobs": ("batch/v1", "Job", "/apis/batch/v1/jobs"),
    "pods": ("v1", "Pod", "/api/v1/pods"),
    "services": ("v1", "Service", "/api/v1/services"),
    "deployments": ("apps/v1", "Deployment", "/apis/apps/v1/deployments"),
}
"""The built-in kinds the operator lists across all namespaces: apiVersion, kind, path."""


def create_job(job: Mapping[str, Any]) -> dict[str, Any]:
    """Create the Job, or return the existing one of that name (after a restart, or a race; it may
    belong to another run). Raises ``Refused`` for an invalid Job, ``Rejected`` for any other
    refusal."""
    namespace = job["metadata"]["namespace"]
    _count("create_job")
    try:
        return _request("POST", OBJECT_PATHS["Job"], job, params={"namespace": namespace})
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
    _count("read_job")
    params = {"namespace": namespace, "name": name}
    return _found(lambda: _request("GET", OBJECT_PATHS["Job"] + "/{name}", params=params))


def set_job_suspend(namespace: str, name: str, suspend: bool) -> None:
    _count("set_job_suspend")
    _request(
        "PATCH",
        OBJECT_PATHS["Job"] + "/{name}",
        {"spec": {"suspend": suspend}},
        params={"namespace": namespace, "name": name},
        content_type="application/merge-patch+json",
    )


FIELD_MANAGER = "textclf-operator"
"""The field manager of the operator's server-side applies (predictor Deployments and Services)."""


def apply(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Server-side apply of a Deployment or Service the operator owns: creates it, or updates the
    fields the operator manages (and removes those it no longer sets), taking them over from anyone
    who changed them by hand. The stored object."""
    meta = manifest["metadata"]
    if manifest["kind"] not in ("Deployment", "Service"):
        raise ValueError(f"apply knows no {manifest['kind']}")
    _count("apply")
    try:
        return _request(
            "PATCH",
            OBJECT_PATHS[manifest["kind"]] + "/{name}",
            manifest,
            params={"namespace": meta["namespace"], "name": meta["name"]},
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            content_type="application/apply-patch+yaml",  # JSON is YAML
        )
    except kubernetes.client.ApiException as err:
        if err.status in (400, 422):
            raise Refused(_refusal(err)) from err
        raise


def delete(kind: str, namespace: str, name: str, uid: str) -> None:
    """Delete the Deployment, Service or Job ``uid`` (never a re-created namesake); its Pods go by
    garbage collection. Already gone, or replaced by another object of that name: nothing to do."""
    if kind not in OBJECT_PATHS:
        raise ValueError(f"delete knows no {kind}")
    options = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"uid": uid},
        "propagationPolicy": "Background",
    }
    _count("delete")
    try:
        _request(
            "DELETE",
            OBJECT_PATHS[kind] + "/{name}",
            options,
            params={"namespace": namespace, "name": name},
        )
    except kubernetes.client.ApiException as err:
        if err.status not in (404, 409):
            raise


def list_objects(plural: str, label_selector: str = "") -> tuple[list[dict[str, Any]], str]:
    """Every object of one kind the operator watches, in all namespaces (``label_selector`` as the
    API server reads it), as watch events carry them, and the list's resourceVersion: what a
    fresh cache starts from, and what a resync compares it with."""
    _count("list_objects")
    query = [("labelSelector", label_selector)] if label_selector else []
    if plural in CUSTOM_KINDS:
        listed = _request("GET", f"{CUSTOM_PATH}/{plural}", query=query)
        items = [dict(item) for item in listed.get("items") or []]
    else:
        api_version, kind, path = LISTS[plural]
        listed = _request("GET", path, query=query)
        # a list's items carry no apiVersion and kind; watch events' objects do
        items = [
            {**item, "apiVersion": api_version, "kind": kind} for item in listed.get("items") or []
        ]
    return items, str((listed.get("metadata") or {}).get("resourceVersion") or "")


CUSTOM_KINDS = frozenset(
    {"trainingruns", "textclassifiermodels", "modelevaluations", "trainingtemplates"}
)


def write_status(
    plural: str, namespace: str, name: str, uid: str, status: dict[str, Any]
) -> dict[str, Any]:
    """Replace the status of the object ``uid`` (never a re-created namesake); the stored object.
    ``namespace`` is empty for cluster-scoped kinds (TrainingTemplate)."""
    _count("write_status")
    # JSON Patch: "test" pins the object's identity; "add" replaces the whole status, so fields
    # that went away are removed, not merged.
    patch: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/uid", "value": uid},
        {"op": "add", "path": "/status", "value": status},
    ]
    scope = "/namespaces/{namespace}" if namespace else ""
    return _request(
        "PATCH",
        f"{CUSTOM_PATH}{scope}/{{plural}}/{{name}}/status",
        patch,
        params={"namespace": namespace, "plural": plural, "name": name},
        content_type="application/json-patch+json",
    )


def post_event(obj: Mapping[str, Any], *, reason: str, message: str, warning: bool = False) -> None:
    """A core/v1 Event about ``obj`` (a TrainingRun or TextClassifierModel body)."""
    meta = obj["metadata"]
    now = datetime.datetime.now(datetime.UTC)
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
    _request("POST", EVENTS_PATH, event, params={"namespace": meta["namespace"]})


def review_token(token: str, audience: str) -> dict[str, Any]:
    """The TokenReview status of ``token`` for ``audience`` (authenticated, user, audiences)."""
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, "audiences": [audience]},
    }
    _count("review_token")
    answer = _request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", review)
    return cast("dict[str, Any]", answer.get("status") or {})


def read_secret(namespace: str, name: str) -> dict[str, Any] | None:
    """The Secret, or None if there is none of that name."""
    _count("read_secret")
    params = {"namespace": namespace, "name": name}
    return _found(lambda: _request("GET", SECRETS_PATH + "/{name}", params=params))


def create_secret(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    """Create an Opaque Secret of base64 ``data``; if another process made one of that name first,
    return theirs, so every replica ends up with the same content."""
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
        return _request("POST", SECRETS_PATH, secret, params={"namespace": namespace})
    except kubernetes.client.ApiException as err:
        if err.status != 409:
            raise
    existing = read_secret(namespace, name)
    if existing is None:
        raise RuntimeError(f"Secret {namespace}/{name} conflicts but cannot be read")
    return existing


def read_lease(namespace: str, name: str) -> dict[str, Any] | None:
    """The leader-election Lease, or None before anyone took it."""
    _count("read_lease")
    params = {"namespace": namespace, "name": name}
    return _found(lambda: _request("GET", LEASES_PATH + "/{name}", params=params))


def write_lease(
    namespace: str, name: str, spec: Mapping[str, Any], resource_version: str | None
) -> dict[str, Any]:
    """Create the Lease (no ``resource_version``) or replace the version that was read: a
    replica that wrote in between makes this fail with 409, so two never both think they lead."""
    body: dict[str, Any] = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": dict(spec),
    }
    _count("write_lease")
    params = {"namespace": namespace, "name": name}
    if resource_version is None:
        return _request("POST", LEASES_PATH, body, params=params)
    body["metadata"]["resourceVersion"] = resource_version
    return _request("PUT", LEASES_PATH + "/{name}", body, params=params)
