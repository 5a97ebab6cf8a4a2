"""The chart's RBAC is exactly what the operator needs: nothing missing, nothing unused.

The chart's ServiceAccount, ClusterRole, Roles and bindings are applied to the real API server; the
operator then runs with a token of that ServiceAccount (the same credentials it has in a cluster)
through the paths that use each permission: a first start that makes the progress endpoint's TLS
Secret and takes the leader-election Lease (handed back at the end), a full lifecycle with progress over HTTPS (TokenReview), an evaluation of the
trained version (its Job, its status), a suspended run that is
resumed (Job patch), a Job deleted by hand (Job get), a finished run past its TTL (Job delete), and
a served model whose predictor Deployment
and Service are made, switched to a newer version and removed again. The API server's audit log then
says what the operator did: no request may have been refused, and every granted (group, resource,
verb) must have been used at least once.

A server-side apply that creates its object is audited as a ``patch`` but authorized as ``create``
as well (the API server refuses it without both); its 201 answer is what shows the ``create`` used.
"""

from __future__ import annotations

import json
import pathlib
import urllib.parse
from collections.abc import Callable
from typing import Any, cast

import kubernetes
import pytest

import controlplane
from tests.install import charts
from tests.operator.support import (
    Cluster,
    eventually,
    post_progress,
    result_message,
    running_operator,
)
from textclf.api import GROUP, VERSION, codes, serving
from textclf_operator import builders, handlers, predictors

pytestmark = pytest.mark.cluster

RELEASE = "rbac-check"  # its own names and namespace: other tests apply the default release's
NAMESPACE = "textclf-rbac"


def _install_rbac(plane: controlplane.ControlPlane) -> str:
    """Apply the chart's operator ServiceAccount and its RBAC; the account's username."""
    objects = charts.render({}, release=RELEASE, namespace=NAMESPACE)
    namespace = NAMESPACE
    plane.kubectl("create", "namespace", namespace)
    wanted = {"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    docs = [o for o in objects if o["kind"] in wanted]
    applied = plane.kubectl(
        "apply",
        "--server-side",
        "-n",
        namespace,
        "-f",
        "-",
        stdin="\n---\n".join(json.dumps(d) for d in docs),
    )
    assert applied.returncode == 0, applied.stderr
    _, account = charts.operator_rules({}, release=RELEASE)
    return f"system:serviceaccount:{namespace}:{account}"


def _tls_settings() -> dict[str, str]:
    """The chart's progress TLS and leader-election settings of the operator, in the release
    namespace."""
    objects = charts.render({}, release=RELEASE, namespace=NAMESPACE)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    env = {
        e["name"]: e.get("value")
        for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    names = (
        "TEXTCLF_PROGRESS_TLS_SECRET",
        "TEXTCLF_PROGRESS_TLS_GENERATE",
        "TEXTCLF_LEADER_ELECTION",
        "TEXTCLF_LEADER_LEASE",
    )
    return {
        "POD_NAMESPACE": NAMESPACE,
        "POD_NAME": "rbac-check-operator",
        # long enough that a slow machine never makes this in-process operator give up the lead
        "TEXTCLF_LEADER_LEASE_SECONDS": "120",
        **{name: str(env[name]) for name in names},
    }


def _token(api_client: kubernetes.client.ApiClient, username: str) -> str:
    _, _, namespace, account = username.split(":")
    core = kubernetes.client.CoreV1Api(api_client)
    response = core.create_namespaced_service_account_token(
        account, namespace, cast("Any", {"spec": {"expirationSeconds": 3600}})
    )
    assert response.status is not None
    return str(response.status.token)


def _audited(plane: controlplane.ControlPlane, username: str) -> list[dict[str, Any]]:
    found = []
    for line in plane.audit_log.read_text().splitlines():
        entry = json.loads(line)
        if (
            entry.get("user", {}).get("username") == username
            and entry.get("stage") == "ResponseComplete"
        ):
            found.append(entry)
    return found


def _granted(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _used(entries: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    used = set()
    for entry in entries:
        ref = entry.get("objectRef") or {}
        if not ref.get("resource"):
            continue  # discovery (/apis, /version): allowed to every authenticated user
        resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        used.add((ref.get("apiGroup", ""), resource, entry["verb"]))
        created = entry.get("responseStatus", {}).get("code") == 201
        if entry["verb"] == "patch" and created:
            used.add((ref.get("apiGroup", ""), resource, "create"))  # an apply that created
        if created and resource in OWNERS:
            # admitted by OwnerReferencesPermissionEnforcement: update on the owner's finalizers
            used.add((GROUP, f"{OWNERS[resource](ref.get('name', ''))}/finalizers", "update"))
    return used


OWNERS: dict[str, Callable[[str], str]] = {
    "jobs": lambda name: "modelevaluations" if name.endswith("-eval") else "trainingruns",
    "deployments": lambda _name: "textclassifiermodels",
    "services": lambda _name: "textclassifiermodels",
}
"""What the operator creates, owned with blockOwnerDeletion: the owner's plural, by the name."""


def _predictor_runs(cluster: Cluster) -> str | None:
    """The version the model's predictor Deployment runs, or None while it has none."""
    apps = kubernetes.client.AppsV1Api(cluster.core.api_client)
    try:
        found = apps.read_namespaced_deployment(
            serving.predictor_name("reviews"), cluster.namespace
        )
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            return None
        raise
    assert found.spec is not None
    labels = (found.spec.template.metadata and found.spec.template.metadata.labels) or {}
    return labels.get(predictors.VERSION_LABEL)


def test_operator_needs_every_rule_it_is_granted_and_no_other(
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    restricted_namespace: str,
    template: str,
    tmp_path: pathlib.Path,
) -> None:
    username = _install_rbac(control_plane)
    kubeconfig = control_plane.kubeconfig_for_token(
        _token(api_client, username), tmp_path / "operator.kubeconfig"
    )
    cluster = Cluster(api_client, restricted_namespace)
    cluster.create_model(serving={"enabled": True})
    with running_operator(control_plane, kubeconfig, **_tls_settings()) as state:
        # a whole lifecycle, with progress (over HTTPS: the operator made its certificate's Secret)
        cluster.create_run("rbac-full")
        pod = cluster.pending_pod("rbac-full")
        cluster.start_pod(pod)
        cluster.wait_code("rbac-full", codes.StatusCode.TRAINING)  # the operator has seen the Pod
        assert post_progress(state, cluster.token(pod), {"percent": 10}) == 202
        cluster.finish_pod(pod, 0, result_message())
        cluster.wait_code("rbac-full", codes.StatusCode.TRAINED)
        # an evaluation of it: watched, its Job created, its status written
        cluster.create_evaluation("rbac-eval", version="rbac-full")
        eventually(lambda: cluster.evaluation("rbac-eval").get("jobName"), 30, "the evaluation")
        # the served model's predictor: created by server-side apply, then watched
        eventually(lambda: _predictor_runs(cluster) == "rbac-full", 30, "the predictor")
        # a newer version: the Deployment is applied again (patch)
        cluster.create_run("rbac-newer")
        newer = cluster.pending_pod("rbac-newer")
        cluster.start_pod(newer)
        cluster.finish_pod(newer, 0, result_message())
        eventually(lambda: _predictor_runs(cluster) == "rbac-newer", 30, "the version switch")
        # a Service deleted by hand is applied back (watch, create)
        cluster.core.delete_namespaced_service(
            serving.predictor_name("reviews"), restricted_namespace
        )
        eventually(
            lambda: cluster.core.list_namespaced_service(restricted_namespace).items,
            30,
            "the Service back",
        )
        # serving off: both are deleted
        cluster.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            restricted_namespace,
            "textclassifiermodels",
            "reviews",
            {"spec": {"serving": {"enabled": False}}},
        )
        eventually(lambda: _predictor_runs(cluster) is None, 30, "the predictor removed")
        eventually(
            lambda: not cluster.core.list_namespaced_service(restricted_namespace).items,
            30,
            "the Service removed",
        )
        # suspend and resume: the Job is patched
        cluster.create_run("rbac-held", suspend=True)
        cluster.job("rbac-held")
        cluster.custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            restricted_namespace,
            "trainingruns",
            "rbac-held",
            {"spec": {"suspend": False}},
        )
        eventually(lambda: cluster._read_job("rbac-held").spec.suspend is False, 30, "resumed")
        # a Job deleted by hand: the operator reads it back before it calls the run lost
        cluster.create_run("rbac-lost")
        job = cluster.job("rbac-lost")
        cluster.wait_code("rbac-lost", codes.StatusCode.QUEUED)
        cluster.batch.delete_namespaced_job(
            job.metadata.name, restricted_namespace, propagation_policy="Background"
        )
        cluster.wait_code("rbac-lost", codes.StatusCode.FAILED)
        # a finished run past its ttlSecondsAfterFinished: the operator deletes its Job
        cluster.create_run("rbac-expiring", ttlSecondsAfterFinished=0)
        expiring = cluster.pending_pod("rbac-expiring")
        cluster.start_pod(expiring)
        cluster.finish_pod(expiring, int(codes.ExitCode.NO_DATA), "")
        cluster.wait_code("rbac-expiring", codes.StatusCode.FAILED)
        eventually(lambda: cluster._read_job("rbac-expiring") is None, 60, "the expired Job")
        eventually(
            lambda: (cluster.model().get("status") or {}).get("latestVersion"), 30, "model status"
        )
        # a new template: its Valid condition is written
        cluster.custom.create_cluster_custom_object(
            GROUP,
            VERSION,
            "trainingtemplates",
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "TrainingTemplate",
                "metadata": {"name": "rbac-template"},
                "spec": {"image": "textclf/trainer:rbac"},
            },
        )
        eventually(
            lambda: cast(
                "dict[str, Any]",
                cluster.custom.get_cluster_custom_object(
                    GROUP, VERSION, "trainingtemplates", "rbac-template"
                ),
            ).get("status"),
            30,
            "the template's status",
        )
    entries = _audited(control_plane, username)
    # The built-in kinds are watched for the operator's own objects only, filtered by the API server.
    for group, _version, plural in handlers.OWN_KINDS:
        watches = [
            e["requestURI"]
            for e in entries
            if e["verb"] == "watch"
            and (e.get("objectRef") or {}).get("resource") == plural
            and (e.get("objectRef") or {}).get("apiGroup", "") == group
        ]
        assert watches, f"no watch of {plural}"
        selectors = [
            urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query).get("labelSelector")
            for uri in watches
        ]
        assert all(found == [builders.MANAGED_SELECTOR] for found in selectors), watches
    refused = [
        f"{e['verb']} {e.get('objectRef', {}).get('resource')}: "
        f"{e.get('responseStatus', {}).get('message')}"
        for e in entries
        if e.get("responseStatus", {}).get("code") == 403
        # other tests' namespaces being deleted refuse new objects to everyone: not RBAC
        and "being terminated" not in str(e.get("responseStatus", {}).get("message"))
    ]
    assert not refused, f"the operator lacks permissions: {refused}"
    rules, _ = charts.operator_rules({}, release=RELEASE)
    unused = _granted(rules) - _used(entries)
    assert not unused, f"granted but never used: {sorted(unused)}"


def test_block_owner_deletion_needs_the_owners_finalizers(
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    tmp_path: pathlib.Path,
) -> None:
    """The control plane enforces owner references as OpenShift does, so the test above proves the
    chart's finalizers rule: an account that may create Jobs but not update its owner's finalizers
    is refused a Job owned with blockOwnerDeletion, and allowed the same Job without it."""
    core = kubernetes.client.CoreV1Api(api_client)
    rbac = kubernetes.client.RbacAuthorizationV1Api(api_client)
    core.create_namespaced_service_account(namespace, cast("Any", {"metadata": {"name": "maker"}}))
    rbac.create_namespaced_role(
        namespace,
        cast(
            "Any",
            {
                "metadata": {"name": "jobs-only"},
                "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]}],
            },
        ),
    )
    rbac.create_namespaced_role_binding(
        namespace,
        cast(
            "Any",
            {
                "metadata": {"name": "maker-jobs"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "jobs-only",
                },
                "subjects": [{"kind": "ServiceAccount", "name": "maker", "namespace": namespace}],
            },
        ),
    )
    owner = core.create_namespaced_config_map(
        namespace, cast("Any", {"metadata": {"name": "owner"}})
    )
    assert owner.metadata is not None
    uid = owner.metadata.uid
    kubeconfig = control_plane.kubeconfig_for_token(
        _token(api_client, f"system:serviceaccount:{namespace}:maker"), tmp_path / "maker"
    )
    maker = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))  # type: ignore[no-untyped-call]
    batch = kubernetes.client.BatchV1Api(maker)

    def job(name: str, *, block: bool) -> Any:
        reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                     "uid": uid, "blockOwnerDeletion": block}  # fmt: skip
        pod = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "none"}]}
        return {
            "metadata": {"name": name, "ownerReferences": [reference]},
            "spec": {"template": {"spec": pod}},
        }

    with pytest.raises(kubernetes.client.ApiException) as refused:
        batch.create_namespaced_job(namespace, job("blocking", block=True))
    assert refused.value.status == 403
    assert "blockOwnerDeletion" in str(refused.value.body)
    batch.create_namespaced_job(namespace, job("plain", block=False))
    maker.close()
