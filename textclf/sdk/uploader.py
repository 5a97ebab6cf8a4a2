"""A dataset too large for a ConfigMap, put on the app's data claim by a short-lived uploader Pod.

No client outside the cluster can write to a PersistentVolumeClaim, and the training Pods read
datasets from one like any ``pvc://`` URI. So the SDK starts a Pod in the app's namespace that mounts
the claim and runs the trainer image's receiver (``python -m textclf_trainer receive``), waits until
it is Ready, streams the file to it through the API server's pod proxy with the caller's own
credentials (``update`` on ``pods/proxy``, which the built-in ``edit`` role grants), and deletes the
Pod. The receiver checks the SHA-256 computed here and renames the file into place only when it
matches, so a dataset is either whole under its name or absent.

The Pod meets the restricted Pod Security profile that apps enforce (non-root uid 65532, read-only
root filesystem, no capabilities, RuntimeDefault seccomp), has no ServiceAccount token, ends itself
after ``DEADLINE_SECONDS``, and is owned by the dataset's ConfigMap, so deleting the dataset takes a
stuck uploader with it. A Pod that never becomes Ready (no such claim bound, the image not pulled,
unschedulable) is deleted and reported with what the Pod's status says.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import secrets
from typing import Any, cast

import kubernetes
import urllib3

from textclf.api import channels
from textclf.cluster import connect

UPLOAD_LABEL = "textclf.io/upload"
CONTAINER = "receive"
DEADLINE_SECONDS = 1800
READY_TIMEOUT_SECONDS = 600
"""Long enough for a node to pull the trainer image."""
UID = 65532


def pod_manifest(
    dataset: str,
    *,
    image: str,
    claim: str,
    path: str,
    sha256: str,
    token: str,
    owner: dict[str, str] | None,
) -> dict[str, Any]:
    """The uploader Pod: ``path`` is where the file goes inside ``claim``; the API server names it
    (``generateName``), so ids of any length and a leftover Pod never clash."""
    mount = f"{channels.PVC_MOUNT_ROOT}/{claim}"
    metadata: dict[str, Any] = {
        "generateName": f"textclf-upload-{dataset[:36].rstrip('-')}-",
        "labels": {UPLOAD_LABEL: dataset, "app.kubernetes.io/part-of": "textclf"},
    }
    if owner is not None:
        metadata["ownerReferences"] = [owner]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": UID,
                "runAsGroup": UID,
                "fsGroup": UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": CONTAINER,
                    "image": image,
                    "command": ["python", "-m", "textclf_trainer", "receive"],
                    "args": ["--to", f"{mount}/{path}", "--sha256", sha256],
                    "env": [{"name": channels.UPLOAD_TOKEN_ENV, "value": token}],
                    "ports": [{"name": "upload", "containerPort": channels.UPLOAD_PORT}],
                    "readinessProbe": {
                        "httpGet": {
                            "path": channels.UPLOAD_HEALTH_PATH,
                            "port": channels.UPLOAD_PORT,
                        },
                        "periodSeconds": 1,
                    },
                    "resources": {
                        "requests": {"cpu": "100m", "memory": "128Mi"},
                        "limits": {"memory": "512Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                    "volumeMounts": [
                        {"name": "data", "mountPath": mount},
                        {"name": "tmp", "mountPath": "/tmp"},
                    ],
                }
            ],
            "volumes": [
                {"name": "data", "persistentVolumeClaim": {"claimName": claim}},
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
        },
    }


def _said(err: kubernetes.client.ApiException) -> str:
    try:
        return str(json.loads(err.body or "{}").get("message") or err.body)
    except (TypeError, ValueError):
        return str(err.body)


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def _why_not(pod: Any) -> str:
    """What the Pod's status says about why it is not Ready, in one line."""
    status = pod.status
    said = [f"phase {status.phase}"]
    for condition in status.conditions or []:
        if condition.status != "True" and (condition.reason or condition.message):
            said.append(f"{condition.type}: {condition.reason or ''} {condition.message or ''}")
    for container in status.container_statuses or []:
        waiting = container.state.waiting if container.state else None
        terminated = container.state.terminated if container.state else None
        if waiting is not None:
            said.append(f"container waiting: {waiting.reason} {waiting.message or ''}")
        if terminated is not None:
            said.append(f"container ended: {terminated.reason} {terminated.message or ''}")
    return "; ".join(s.strip() for s in said)


class Uploader:
    """Puts files on claims of one namespace; ``upload`` is one Pod's whole life."""

    def __init__(self, conn: connect.Connection, image: str) -> None:
        self.conn = conn
        self.image = image
        self.core = kubernetes.client.CoreV1Api(conn.api)

    def check_claim(self, claim: str) -> None:
        """``ValueError`` naming the claim and what to do when the namespace has none by that name."""
        try:
            self.core.read_namespaced_persistent_volume_claim(claim, self.conn.namespace)
        except kubernetes.client.ApiException as err:
            if err.status != 404:
                raise
            raise ValueError(
                f"app {self.conn.namespace} has no PersistentVolumeClaim {claim} for datasets "
                "over the ConfigMap limit: create it (examples/kubernetes/datasets-claim.yaml) "
                "or name another claim with textclf.Client(datasets='pvc://CLAIM')"
            ) from None

    def upload(
        self,
        source: pathlib.Path,
        dataset: str,
        *,
        claim: str,
        path: str,
        owner: dict[str, str] | None,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
    ) -> str:
        """Put ``source`` at ``pvc://claim/path``; that URI once the receiver has checked it."""
        self.check_claim(claim)
        from textclf_trainer import artifacts  # noqa: PLC0415  (hashlib only)

        digest = artifacts.file_sha256(source)
        token = secrets.token_urlsafe(32)
        body = pod_manifest(
            dataset,
            image=self.image,
            claim=claim,
            path=path,
            sha256=digest,
            token=token,
            owner=owner,
        )
        try:
            made: Any = self.core.create_namespaced_pod(self.conn.namespace, cast("Any", body))
        except kubernetes.client.ApiException as err:
            raise ValueError(
                f"the API server refused the uploader Pod in app {self.conn.namespace} "
                f"({err.status} {err.reason}: {_said(err)}); nothing was uploaded"
            ) from None
        name = str(made.metadata.name)
        try:
            self._wait_ready(name, ready_timeout)
            self._put(name, source, token)
        finally:
            # the Pod ends itself at its deadline too: a failed delete must not hide why we stop
            with contextlib.suppress(kubernetes.client.ApiException):
                self.core.delete_namespaced_pod(name, self.conn.namespace, grace_period_seconds=0)
        return f"pvc://{claim}/{path}"

    def _wait_ready(self, name: str, timeout: float) -> None:
        watch = kubernetes.watch.Watch()  # type: ignore[no-untyped-call]
        last: Any = None
        try:
            for event in watch.stream(  # type: ignore[no-untyped-call]
                self.core.list_namespaced_pod,
                self.conn.namespace,
                field_selector=f"metadata.name={name}",
                timeout_seconds=max(1, int(timeout)),
            ):
                last = event["object"]
                if _ready(last):
                    return
                if last.status.phase in {"Failed", "Succeeded"}:
                    break
        finally:
            watch.stop()  # type: ignore[no-untyped-call]
        if last is None:
            last = self.core.read_namespaced_pod(name, self.conn.namespace)
        ended = last.status.phase in {"Failed", "Succeeded"}
        when = "ended before it was ready" if ended else f"was not ready within {timeout:.0f} s"
        raise ValueError(
            f"the uploader Pod {name} {when} ({_why_not(last)}{self._events(name)}); "
            "nothing was uploaded"
        )

    def _events(self, name: str) -> str:
        """The Pod's last warnings (FailedScheduling, FailedAttachVolume, ErrImagePull...)."""
        found: Any = self.core.list_namespaced_event(
            self.conn.namespace, field_selector=f"involvedObject.name={name},type=Warning"
        )
        said = [f"{e.reason}: {e.message}" for e in found.items[-3:]]
        return "".join(f"; event {s}" for s in said)

    def _put(self, name: str, source: pathlib.Path, token: str) -> None:
        route = (
            f"/api/v1/namespaces/{self.conn.namespace}/pods/{name}:{channels.UPLOAD_PORT}"
            f"/proxy{channels.UPLOAD_PATH}"
        )
        size = source.stat().st_size
        _method, url, headers, _body, _post = self.conn.api.param_serialize(
            method="PUT",
            resource_path=route,
            header_params={
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size),
                channels.UPLOAD_TOKEN_HEADER: token,
            },
            auth_settings=["BearerToken"],
        )
        pool = self.conn.api.rest_client.pool_manager
        try:
            with source.open("rb") as handle:
                # no retries: a resent PUT would meet a receiver that has already ended
                response = pool.request(
                    "PUT", url, body=handle, headers=headers, preload_content=True, retries=False
                )
        except urllib3.exceptions.HTTPError as err:
            raise ValueError(f"sending {source} to the uploader Pod {name} failed: {err}") from None
        if response.status != 201:
            said = response.data.decode(errors="replace").strip()[:500]
            raise ValueError(
                f"the uploader Pod {name} refused the file ({response.status}: {said})"
            )
