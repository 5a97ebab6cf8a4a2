"""The CRDs as the API server enforces them: examples are accepted, bad input is refused at admission
with a message that names the offending field.

Every case goes through the real kube-apiserver (server-side dry run, strict field validation: what
`kubectl apply` does by default), so the schemas, CEL rules and their cost budgets are what users get.
"""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
from collections.abc import Callable
from typing import Any, cast

import kubernetes
import pytest
import yaml

import controlplane
from textclf.api import trainingrun

pytestmark = pytest.mark.cluster

REPO = pathlib.Path(__file__).resolve().parents[2]
GROUP, VERSION = "textclf.io", "v1alpha1"
PLURALS = {
    "TrainingRun": "trainingruns",
    "TextClassifierModel": "textclassifiermodels",
    "TrainingTemplate": "trainingtemplates",
}
EXTERNAL_API_GROUPS = ("kustomize.config.k8s.io", "argoproj.io", "monitoring.coreos.com")
"""Manifests for tools other than the API server (kustomize files, Argo CD, Prometheus Operator)."""

RUN: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "TrainingRun",
    "metadata": {"name": "base"},
    "spec": {
        "modelRef": {"name": "reviews"},
        "template": "hf-advanced",
        "dataset": {
            "train": {"uri": "configmap://imdb/train.csv"},
            "test": {"uri": "configmap://imdb/test.csv"},
        },
        "output": {"uri": "pvc://models/reviews"},
    },
}
MODEL: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "TextClassifierModel",
    "metadata": {"name": "reviews"},
    "spec": {"concepts": ["neg", "pos"], "template": "hf-advanced"},
}
TEMPLATE: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "TrainingTemplate",
    "metadata": {"name": "mine"},
    "spec": {"image": "example.com/trainer:1", "modelType": "text-classifier"},
}


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((REPO / "examples").rglob("*.yaml")):
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc:
                group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
                if group in EXTERNAL_API_GROUPS:
                    continue  # tests/install checks these with kustomize and Argo CD's own rules
                found.append((f"{path.relative_to(REPO)}#{index}", doc))
    return found


def test_examples_exist() -> None:
    kinds = {doc["kind"] for _, doc in _manifests()}
    assert {"TrainingRun", "TextClassifierModel", "TrainingTemplate", "ModelEvaluation"} <= kinds


@pytest.mark.parametrize(("where", "doc"), _manifests(), ids=[w for w, _ in _manifests()])
def test_example_is_accepted(
    control_plane: controlplane.ControlPlane, namespace: str, where: str, doc: dict[str, Any]
) -> None:
    applied = control_plane.kubectl(
        "apply",
        "--server-side",
        "--dry-run=server",
        "--validate=strict",
        "-n",
        namespace,
        "-f",
        "-",
        stdin=json.dumps(doc),
    )
    assert applied.returncode == 0, f"{where}: {applied.stderr}"


# --- refused at admission ------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


# (id, base object, mutation, substrings the API server's message must contain)
INVALID: list[tuple[str, dict[str, Any], Mutation, tuple[str, ...]]] = [
    ("run-no-modelref", RUN, _delete("spec.modelRef"), ("spec.modelRef", "Required")),
    ("run-no-train", RUN, _delete("spec.dataset.train"), ("spec.dataset.train", "Required")),
    ("run-output-no-uri", RUN, _set("spec.output", {}), ("spec.output.uri", "Required")),
    ("run-empty-modelref-name", RUN, _set("spec.modelRef.name", ""), ("spec.modelRef.name",)),
    (
        "run-train-uri-scheme",
        RUN,
        _set("spec.dataset.train.uri", "ftp://host/train.csv"),
        ("spec.dataset.train.uri", "supported scheme"),
    ),
    (
        "run-test-uri-whitespace",
        RUN,
        _set("spec.dataset.test.uri", "s3://bucket/my file.csv"),
        ("spec.dataset.test.uri", "supported scheme"),
    ),
    (
        "run-output-uri-scheme",
        RUN,
        _set("spec.output.uri", "https://example.com/model"),
        ("spec.output.uri", "output URI"),
    ),
    (
        "run-test-equals-train",
        RUN,
        _set("spec.dataset.test.uri", "configmap://imdb/train.csv"),
        ("spec.dataset.test.uri", "must differ from train.uri"),
    ),
    (
        "run-tolerance-above-100",
        RUN,
        _set("spec.dataset.invalidDataTolerancePercent", 150),
        ("spec.dataset.invalidDataTolerancePercent", "100"),
    ),
    (
        "run-tolerance-negative",
        RUN,
        _set("spec.dataset.invalidDataTolerancePercent", -1),
        ("spec.dataset.invalidDataTolerancePercent", "0"),
    ),
    (
        "run-validation-split-half",
        RUN,
        _set("spec.dataset.validationSplit", 0.5),
        ("spec.dataset.validationSplit", "less than 0.5"),
    ),
    (
        "run-validation-split-negative",
        RUN,
        _set("spec.dataset.validationSplit", -0.1),
        ("spec.dataset.validationSplit",),
    ),
    (
        "run-empty-label-separator",
        RUN,
        _set("spec.dataset.labelSeparator", ""),
        ("spec.dataset.labelSeparator",),
    ),
    ("run-gpu-negative", RUN, _set("spec.resources.gpu", -1), ("spec.resources.gpu",)),
    (
        "run-memory-not-quantity",
        RUN,
        _set("spec.resources.memory", "16GB"),
        ("spec.resources.memory", "Kubernetes quantity"),
    ),
    (
        "run-deadline-zero",
        RUN,
        _set("spec.activeDeadlineSeconds", 0),
        ("spec.activeDeadlineSeconds",),
    ),
    ("run-backoff-negative", RUN, _set("spec.backoffLimit", -1), ("spec.backoffLimit",)),
    (
        "run-template-not-a-name",
        RUN,
        _set("spec.template", "HF_Advanced"),
        ("spec.template",),
    ),
    ("run-queue-name", RUN, _set("spec.queueName", "team a"), ("spec.queueName",)),
    (
        "run-toleration-operator",
        RUN,
        _set("spec.tolerations", [{"key": "gpu", "operator": "Maybe"}]),
        ("spec.tolerations[0].operator", "Unsupported value"),
    ),
    ("run-unknown-field", RUN, _set("spec.epochs", 3), ('unknown field "spec.epochs"',)),
    (
        "run-memory-negative",
        RUN,
        _set("spec.resources.memory", "-1Gi"),
        ("spec.resources.memory", "Kubernetes quantity"),
    ),
    (
        "run-node-selector-key",
        RUN,
        _set("spec.nodeSelector", {"bad key!": "x"}),
        ("spec.nodeSelector", "label keys"),
    ),
    (
        "run-node-selector-value",
        RUN,
        _set("spec.nodeSelector", {"gpu": "not a value"}),
        ("spec.nodeSelector.gpu",),
    ),
    (
        "run-toleration-exists-with-value",
        RUN,
        _set("spec.tolerations", [{"key": "gpu", "operator": "Exists", "value": "yes"}]),
        ("spec.tolerations[0].value", "must be empty when operator is Exists"),
    ),
    (
        "run-name-too-long",
        RUN,
        _set("metadata.name", "a" * 60),
        ("metadata.name must be at most 52 characters",),
    ),
    (
        "model-duplicate-concepts",
        MODEL,
        _set("spec.concepts", ["neg", "neg"]),
        ("spec.concepts[1]", "Duplicate"),
    ),
    ("model-empty-concept", MODEL, _set("spec.concepts", ["neg", ""]), ("spec.concepts[1]",)),
    (
        "model-replicas-negative",
        MODEL,
        _set("spec.serving", {"replicas": -1}),
        ("spec.serving.replicas",),
    ),
    (
        "model-serving-cpu-not-quantity",
        MODEL,
        _set("spec.serving", {"resources": {"requests": {"cpu": "lots"}}}),
        ("spec.serving.resources.requests[cpu]", "Kubernetes quantity"),
    ),
    ("template-no-image", TEMPLATE, _delete("spec.image"), ("spec.image", "Required")),
    (
        "template-model-type",
        TEMPLATE,
        _set("spec.modelType", "image-classifier"),
        ("spec.modelType", "Unsupported value"),
    ),
]


def _custom(api_client: kubernetes.client.ApiClient) -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(api_client)


def _create(
    api_client: kubernetes.client.ApiClient, namespace: str, doc: dict[str, Any], *, dry_run: bool
) -> dict[str, Any]:
    custom = _custom(api_client)
    kwargs: dict[str, Any] = {"field_validation": "Strict"}
    if dry_run:
        kwargs["dry_run"] = "All"
    plural = PLURALS[doc["kind"]]
    if doc["kind"] == "TrainingTemplate":
        created = custom.create_cluster_custom_object(GROUP, VERSION, plural, doc, **kwargs)
    else:
        created = custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, doc, **kwargs
        )
    return cast("dict[str, Any]", created)


def _refusal(err: kubernetes.client.ApiException) -> str:
    # 422 for schema and CEL violations; 400 for strict decoding (an unknown field).
    assert err.status in (400, 422), f"expected a refusal, got {err.status}: {err.body}"
    return str(json.loads(err.body or "{}")["message"])


def test_at_least_twenty_invalid_cases() -> None:
    assert len(INVALID) >= 20


@pytest.mark.parametrize(
    ("base", "mutate", "expected"),
    [(base, mutate, expected) for _, base, mutate, expected in INVALID],
    ids=[case_id for case_id, *_ in INVALID],
)
def test_invalid_manifest_is_refused(
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    base: dict[str, Any],
    mutate: Mutation,
    expected: tuple[str, ...],
) -> None:
    _create(api_client, namespace, base, dry_run=True)  # the unmutated base is valid
    doc = copy.deepcopy(base)
    mutate(doc)
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _create(api_client, namespace, doc, dry_run=True)
    message = _refusal(refused.value)
    for part in expected:
        assert part in message, f"{part!r} not in: {message}"


CHANGES: dict[str, Any] = {
    "modelRef": {"name": "other"},
    "template": "hf-lora",
    "params": {"trainer_config": {"num_train_epochs": 1}},
    "dataset": {"train": {"uri": "configmap://imdb/other.csv"}},
    "output": {"uri": "pvc://models/elsewhere"},
    "resources": {"gpu": 2},
    "queueName": "team-b",
    "activeDeadlineSeconds": 60,
    "backoffLimit": 9,
    "ttlSecondsAfterFinished": 10,
    "nodeSelector": {"gpu": "a100"},
    "tolerations": [{"key": "gpu", "operator": "Exists"}],
    "priorityClassName": "high",
    "credentials": "other-secret",
}


def test_every_immutable_field_has_a_change_case() -> None:
    assert set(CHANGES) == set(trainingrun.IMMUTABLE_FIELDS)


@pytest.mark.parametrize(("field", "value"), sorted(CHANGES.items()))
def test_run_spec_is_immutable(
    api_client: kubernetes.client.ApiClient, namespace: str, field: str, value: Any
) -> None:
    _create(api_client, namespace, RUN, dry_run=False)
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _custom(api_client).patch_namespaced_custom_object(
            GROUP, VERSION, namespace, "trainingruns", "base", {"spec": {field: value}}
        )
    message = _refusal(refused.value)
    assert f"spec.{field}" in message
    assert f"{field} is immutable" in message


def test_a_run_may_leave_its_output_to_the_store_and_never_gain_one_later(
    api_client: kubernetes.client.ApiClient, namespace: str
) -> None:
    doc = copy.deepcopy(RUN)
    del doc["spec"]["output"]
    created = _create(api_client, namespace, doc, dry_run=False)
    assert "output" not in created["spec"]  # the operator decides it; the spec stays as written
    with pytest.raises(kubernetes.client.ApiException) as refused:
        _custom(api_client).patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            "trainingruns",
            "base",
            {"spec": {"output": CHANGES["output"]}},
        )
    assert "output is immutable" in _refusal(refused.value)


def test_run_suspend_stays_mutable(api_client: kubernetes.client.ApiClient, namespace: str) -> None:
    _create(api_client, namespace, RUN, dry_run=False)
    patched = cast(
        "dict[str, Any]",
        _custom(api_client).patch_namespaced_custom_object(
            GROUP, VERSION, namespace, "trainingruns", "base", {"spec": {"suspend": True}}
        ),
    )
    assert patched["spec"]["suspend"] is True


def test_defaults_are_applied(api_client: kubernetes.client.ApiClient, namespace: str) -> None:
    created = _create(api_client, namespace, RUN, dry_run=True)
    dataset = created["spec"]["dataset"]
    assert dataset["invalidDataTolerancePercent"] == 5
    assert "validationSplit" not in dataset  # unset: the trainer's automatic split
    assert (dataset["textColumn"], dataset["labelColumn"]) == ("input", "concepts")
    assert created["spec"]["backoffLimit"] == 3


def test_status_is_a_subresource_with_a_closed_schema(
    api_client: kubernetes.client.ApiClient, namespace: str
) -> None:
    custom = _custom(api_client)
    _create(api_client, namespace, RUN, dry_run=False)
    # Status in a main-resource write is ignored: only the status subresource sets it.
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "trainingruns", "base", {"status": {"code": "MODEL-TRAINED"}}
    )
    stored = cast(
        "dict[str, Any]",
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "trainingruns", "base"),
    )
    assert "status" not in stored
    with pytest.raises(kubernetes.client.ApiException) as refused:
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, "trainingruns", "base", {"status": {"code": "DONE"}}
        )
    assert "status.code" in _refusal(refused.value)
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        "trainingruns",
        "base",
        {
            "status": {
                "code": "MODEL-TRAINED",
                "metrics": {
                    "test": {
                        "examples": 10,
                        "accuracy": 0.9,
                        "macroPrecision": 0.9,
                        "macroRecall": 0.9,
                        "macroF1": 0.9,
                    }
                },
            }
        },
    )


def test_printer_columns(control_plane: controlplane.ControlPlane, namespace: str) -> None:
    for doc in (MODEL, RUN):
        created = control_plane.kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(doc))
        assert created.returncode == 0, created.stderr
    runs = control_plane.kubectl("get", "tr", "-n", namespace)
    assert runs.stdout.split()[:7] == [
        "NAME",
        "MODEL",
        "TEMPLATE",
        "CODE",
        "PROGRESS",
        "TEST-ACCURACY",
        "AGE",
    ]
    assert runs.stdout.split()[7:10] == ["base", "reviews", "hf-advanced"]
    models = control_plane.kubectl("get", "tcm", "-n", namespace)
    assert models.stdout.split()[:8] == [
        "NAME",
        "LATEST",
        "TEST-ACCURACY",
        "READY",
        "SERVING",
        "SERVED",
        "REPLICAS",
        "AGE",
    ]
    wide = control_plane.kubectl("get", "tcm", "-n", namespace, "-o", "wide")
    assert wide.stdout.split()[7:11] == ["TEMPLATE", "SERVING-REASON", "URL", "AGE"]
    templates = control_plane.kubectl("get", "tt")
    assert templates.returncode == 0, templates.stderr


def test_kubectl_explain_shows_field_docs(control_plane: controlplane.ControlPlane) -> None:
    explained = control_plane.kubectl("explain", "trainingrun.spec.dataset.validationSplit")
    assert explained.returncode == 0, explained.stderr
    assert "Fraction of train held out" in explained.stdout


def test_kubectl_binary_is_the_pinned_one() -> None:
    tools = controlplane.client_tools()
    version = subprocess.run(
        [str(tools / "kubectl"), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(version.stdout)["clientVersion"]["minor"] == "35"
