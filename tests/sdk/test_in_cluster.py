"""``textclf.Client()`` in a notebook Pod: no kubeconfig, so the Pod's ServiceAccount (its token, the
cluster CA, its namespace), as client-go's in-cluster config. Against the real API server, with a
token the TokenRequest API issued for a ServiceAccount, in the files where the kubelet mounts them;
the API server itself says who the SDK's requests come from."""

from __future__ import annotations

import pathlib
import shutil
import uuid
from typing import Any, cast
from urllib.parse import urlparse

import kubernetes
import pytest

import controlplane
import textclf
from textclf.cluster import connect


def test_the_sdk_in_a_pod_speaks_as_its_service_account(
    control_plane: controlplane.ControlPlane,
    api_client: kubernetes.client.ApiClient,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core = kubernetes.client.CoreV1Api(api_client)
    rbac = kubernetes.client.RbacAuthorizationV1Api(api_client)
    name = f"nb-{uuid.uuid4().hex[:8]}"
    textclf.Client(kubeconfig=str(control_plane.kubeconfig)).create_app(name)
    binding = f"{name}-notebook"
    try:
        core.create_namespaced_service_account(
            name, cast("Any", {"metadata": {"name": "notebook"}})
        )
        rbac.create_cluster_role_binding(
            cast(
                "Any",
                {
                    "metadata": {"name": binding},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "cluster-admin",
                    },
                    "subjects": [{"kind": "ServiceAccount", "name": "notebook", "namespace": name}],
                },
            )
        )
        issued: Any = core.create_namespaced_service_account_token(
            "notebook", name, cast("Any", {"spec": {"expirationSeconds": 600}})
        )
        mounted = tmp_path / "serviceaccount"
        mounted.mkdir()
        (mounted / "token").write_text(issued.status.token)
        shutil.copy(control_plane.pki / "ca.crt", mounted / "ca.crt")
        (mounted / "namespace").write_text(name)
        server = urlparse(control_plane.server)
        monkeypatch.setattr(connect, "SERVICE_ACCOUNT_DIR", mounted)
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", str(server.hostname))
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(server.port))
        monkeypatch.delenv("KUBECONFIG", raising=False)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config

        client = textclf.Client()
        conn = client.backend.conn
        assert conn.namespace == name  # the Pod's own namespace
        who: Any = kubernetes.client.AuthenticationV1Api(conn.api).create_self_subject_review(
            cast("Any", {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        )
        assert who.status.user_info.username == f"system:serviceaccount:{name}:notebook"
        assert name in [a.id for a in client.list_apps()]
        client.app(name).create_dataset("notes")
        assert [d.id for d in client.app(name).list_datasets()] == ["notes"]

        # a kubeconfig, where there is one, still wins, as with kubectl
        monkeypatch.setenv("KUBECONFIG", str(control_plane.kubeconfig))
        admin = textclf.Client().backend.conn
        again: Any = kubernetes.client.AuthenticationV1Api(admin.api).create_self_subject_review(
            cast("Any", {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        )
        assert again.status.user_info.username != who.status.user_info.username
        assert not again.status.user_info.username.startswith("system:serviceaccount:")
    finally:
        rbac.delete_cluster_role_binding(binding)
        core.delete_namespace(name)
