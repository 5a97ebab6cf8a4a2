"""A dataset over a ConfigMap's limit goes to the app's data claim through a short-lived uploader Pod,
against the real control plane: the app's namespace enforces the restricted Pod Security profile on
the Pod the SDK makes, the test plays the kubelet (the Pod's real receiver in a network namespace of
its own, its address the Pod IP), and the SDK streams the file through the API server's pod proxy.
A run of the uploaded dataset reads it from the claim."""

from __future__ import annotations

import csv
import hashlib
import os
import pathlib
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

import kubernetes
import pytest

import controlplane
import textclf
from tests import netns, testnode
from tests.operator.support import Cluster, eventually
from tests.trainer import runs
from textclf.api import channels
from textclf.cluster import connect
from textclf.sdk import cluster as sdk_cluster
from textclf.sdk import uploader
from textclf_operator import handlers

pytestmark = pytest.mark.cluster

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"
CLAIM = sdk_cluster.DEFAULT_DATASETS.removeprefix("pvc://")


def _big_csv(path: pathlib.Path) -> pathlib.Path:
    """The bundled sample's rows, numbered and repeated past 1 MiB."""
    with (IMDB / "train.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["input", "concepts"])
        copy = 0
        while handle.tell() <= sdk_cluster.MAX_CONFIGMAP_BYTES:
            row = rows[copy % len(rows)]
            writer.writerow([f"{row['input']} (copy {copy})", row["concepts"]])
            copy += 1
    return path


def _app(control_plane: controlplane.ControlPlane) -> tuple[textclf.App, str]:
    """A new app and its namespace's name."""
    client = textclf.Client(kubeconfig=str(control_plane.kubeconfig))
    name = f"up-{uuid.uuid4().hex[:8]}"
    return client.create_app(name), name


def _claim(kube: Cluster) -> None:
    """The app's data claim (no StorageClass: it stays Pending, which the test kubelet, mapping
    claims to folders, does not mind)."""
    kube.core.create_namespaced_persistent_volume_claim(
        kube.namespace,
        {  # type: ignore[arg-type]
            "metadata": {"name": CLAIM},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )


def _uploader_pod(cluster: Cluster, dataset: str) -> Any:
    return eventually(
        lambda: next(iter(cluster.core.list_namespaced_pod(
            cluster.namespace, label_selector=f"{uploader.UPLOAD_LABEL}={dataset}").items), None),
        60,
        "the uploader Pod",
    )  # fmt: skip


def _serve(pod: Any, inside: netns.Namespace, pvc_root: pathlib.Path) -> Any:
    """The Pod's container as the kubelet starts it, its claim a folder under ``pvc_root``."""
    (container,) = pod.spec.containers
    args = [a.replace(channels.PVC_MOUNT_ROOT, str(pvc_root)) for a in container.args]
    env = {e.name: e.value for e in container.env}
    return inside.popen(
        [sys.executable, *container.command[1:], *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_large_dataset_goes_to_the_claim_through_an_uploader_pod(
    operator: handlers.Runtime,
    template: str,
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    tmp_path: pathlib.Path,
) -> None:
    app, name = _app(control_plane)
    kube = Cluster(api_client, name)
    big = _big_csv(tmp_path / "big.csv")
    size = big.stat().st_size
    assert size > sdk_cluster.MAX_CONFIGMAP_BYTES
    try:
        ds = app.create_dataset("big")
        ds.upload_from_csv(IMDB / "train.csv")  # small at first: in the ConfigMap
        assert ds.info["uri"] == "configmap://textclf-dataset-big/data.csv"
        # no claim yet: refused before any Pod is made, the way out named
        with pytest.raises(ValueError, match=f"app {name} has no PersistentVolumeClaim {CLAIM}"):
            ds.upload_from_csv(big)
        assert not kube.core.list_namespaced_pod(name).items
        assert ds.info["uri"] == "configmap://textclf-dataset-big/data.csv"  # nothing lost
        _claim(kube)

        done: list[Any] = []

        def upload() -> None:
            try:
                done.append(ds.upload_from_csv(big))
            except Exception as err:
                done.append(err)

        thread = threading.Thread(target=upload)
        thread.start()
        pod = _uploader_pod(kube, "big")
        # admitted under the app's restricted profile; owned by the dataset; no token
        spec = pod.spec
        assert spec.automount_service_account_token is False
        assert spec.security_context.run_as_non_root is True
        assert spec.containers[0].security_context.read_only_root_filesystem is True
        assert spec.containers[0].security_context.capabilities.drop == ["ALL"]
        assert spec.volumes[0].persistent_volume_claim.claim_name == CLAIM
        (owner,) = pod.metadata.owner_references
        assert (owner.kind, owner.name) == ("ConfigMap", "textclf-dataset-big")
        installed = kubernetes.client.CustomObjectsApi(api_client).list_cluster_custom_object(
            "textclf.io", "v1alpha1", "trainingtemplates"
        )
        images = {t["spec"]["image"] for t in installed["items"]}  # type: ignore[index]
        assert spec.containers[0].image in images

        pvc_root = tmp_path / "pvc"
        with testnode.registered(api_client) as node, netns.namespace() as inside:
            testnode.bind(api_client, pod, node)
            process = _serve(pod, inside, pvc_root)
            try:
                netns.wait_answers(
                    f"http://{inside.ip}:{channels.UPLOAD_PORT}{channels.UPLOAD_HEALTH_PATH}",
                    process,
                )
                # a write without the Pod's token is refused by the receiver itself
                stray = urllib.request.Request(
                    f"http://{inside.ip}:{channels.UPLOAD_PORT}{channels.UPLOAD_PATH}",
                    data=b"input,concepts\nx,pos\n",
                    method="PUT",
                )
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(stray, timeout=10)
                assert refused.value.code == 401
                # Running and Ready with its address, in one write, as a kubelet reports it
                now = kube._now()
                kube.core.patch_namespaced_pod_status(
                    pod.metadata.name,
                    name,
                    {
                        "status": {
                            "phase": "Running",
                            "startTime": now,
                            "podIP": inside.ip,
                            "podIPs": [{"ip": inside.ip}],
                            "conditions": [{"type": "Ready", "status": "True"}],
                            "containerStatuses": [
                                {
                                    "name": uploader.CONTAINER,
                                    "image": pod.spec.containers[0].image,
                                    "imageID": "",
                                    "ready": True,
                                    "restartCount": 0,
                                    "started": True,
                                    "state": {"running": {"startedAt": now}},
                                }
                            ],
                        }
                    },
                )
                thread.join(120)
                assert not thread.is_alive()
                assert not isinstance(done[0], Exception), done[0]
                assert process.wait(30) == 0, process.stdout.read().decode()
            finally:
                if process.poll() is None:
                    process.kill()

        # the same bytes on the claim, whole, under the dataset's name; the Pod gone
        report = done[0]
        with big.open(newline="", encoding="utf-8") as handle:
            assert report.rows == len(list(csv.DictReader(handle)))
        stored = pvc_root / CLAIM / "big" / "data.csv"
        assert (
            hashlib.sha256(stored.read_bytes()).digest()
            == hashlib.sha256(big.read_bytes()).digest()
        )
        assert [p.name for p in stored.parent.iterdir()] == ["data.csv"]  # no partial left
        info = ds.info
        assert (info["uploaded"], info["uri"], info["bytes"]) == (
            True,
            f"pvc://{CLAIM}/big/data.csv",
            size,
        )
        held: Any = kube.core.read_namespaced_config_map("textclf-dataset-big", name)
        assert "data.csv" not in (held.data or {})  # the small file it held before is gone
        eventually(
            lambda: (
                not kube.core.list_namespaced_pod(
                    name, label_selector=f"{uploader.UPLOAD_LABEL}=big"
                ).items
            ),
            30,
            "the uploader Pod to be deleted",
        )

        # a run on it reads it from the claim: the operator mounts the claim in the training Pod
        model = app.create_model("reviews")
        model.update_params(template=template, dataset_id="big")
        version = model.train()
        run: Any = kube.custom.get_namespaced_custom_object(
            "textclf.io", "v1alpha1", name, "trainingruns", version
        )
        assert run["spec"]["dataset"]["train"]["uri"] == f"pvc://{CLAIM}/big/data.csv"
        training = kube.pending_pod(version)
        claims = [v.persistent_volume_claim.claim_name for v in training.spec.volumes
                  if v.persistent_volume_claim is not None]  # fmt: skip
        assert CLAIM in claims
    finally:
        kube.core.delete_namespace(name)


def test_an_uploader_pod_that_never_gets_ready_is_reported_and_deleted(
    template: str,
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    tmp_path: pathlib.Path,
) -> None:
    _, name = _app(control_plane)
    kube = Cluster(api_client, name)
    try:
        _claim(kube)
        # no kubelet here: the Pod stays Pending, and the scheduler's verdict is what is known
        kube.core.create_namespaced_event(
            name,
            {  # type: ignore[arg-type]
                "metadata": {"generateName": "upload-"},
                "involvedObject": {"kind": "Pod", "namespace": name, "name": "placeholder"},
                "reason": "Other",
                "message": "an event of another object is not reported",
                "type": "Warning",
            },
        )
        long_id = "d" * 52  # the longest id: the Pod's name is the API server's to make
        sender = uploader.Uploader(
            connect.Connection(api_client, name), image="textclf/trainer:test"
        )
        with pytest.raises(ValueError, match=r"was not ready within 3 s \(phase Pending") as err:
            sender.upload(
                _big_csv(tmp_path / "big.csv"), long_id, claim=CLAIM, path="x/data.csv",
                owner=None, ready_timeout=3,
            )  # fmt: skip
        assert "nothing was uploaded" in str(err.value)
        assert "another object" not in str(err.value)
        eventually(
            lambda: (
                not kube.core.list_namespaced_pod(
                    name, label_selector=f"{uploader.UPLOAD_LABEL}={long_id}"
                ).items
            ),
            30,
            "the uploader Pod to be deleted",
        )
    finally:
        kube.core.delete_namespace(name)
