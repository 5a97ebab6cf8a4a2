"""Fixtures for tests that need the operator (a plugin of the root conftest): the real operator (kopf, in-process) against the real control plane,
a TrainingTemplate, and a namespace that enforces the "restricted" Pod Security profile."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any, cast

import kubernetes
import pytest

import controlplane
from tests.operator.support import (
    Cluster,
    _exists,
    create_template,
    eventually,
    running_operator,
)
from textclf_operator import handlers


@pytest.fixture(scope="session")
def template(api_client: kubernetes.client.ApiClient) -> str:
    return create_template(api_client)


@pytest.fixture
def restricted_namespace(api_client: kubernetes.client.ApiClient) -> Iterator[str]:
    """A namespace where the API server enforces the Pod Security "restricted" profile."""
    name = f"op-{uuid.uuid4().hex[:8]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace(
        cast(
            "Any",
            {
                "metadata": {
                    "name": name,
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                }
            },
        )
    )
    eventually(
        lambda: _exists(lambda: core.read_namespaced_service_account("default", name)),
        30,
        "the default ServiceAccount",
    )
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def operator(control_plane: controlplane.ControlPlane) -> Iterator[handlers.Runtime]:
    with running_operator(control_plane) as state:
        yield state


@pytest.fixture
def cluster(api_client: kubernetes.client.ApiClient, restricted_namespace: str) -> Cluster:
    return Cluster(api_client, restricted_namespace)
