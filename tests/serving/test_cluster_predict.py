"""``textclf predict MODEL -n NS`` against a model served on the real control plane, through the API
server's service proxy, down to a real predictor process.

The test is the kubelet, as elsewhere, but here it also runs the predictor Pod's container: the
command and arguments the operator wrote into the Pod, in a network namespace of its own whose
address becomes the Pod IP, marked Ready only once its readiness path answers 200. From there on it
is all real: the endpoints controller lists the Pod IP behind the Service, the API server proxies
the CLI's request to it, and the predictor answers from the artifact the real trainer wrote (its
termination message is the trained run's real result).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

import controlplane
from tests import netns, testnode
from tests.operator.support import Cluster, eventually
from tests.trainer import runs
from textclf.api import GROUP, VERSION, codes, serving
from textclf_operator import builders, handlers, predictors

pytestmark = pytest.mark.cluster

MODEL = "reviews"
TEXTS = [
    "a gorgeous , witty , seductive movie .",
    "the plot is nothing but boilerplate clichés from start to finish ,",
    "it 's a charming and often affecting journey .",
]


def _textclf(plane: controlplane.ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "textclf.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": str(plane.kubeconfig)},
        check=False,
        timeout=300,
    )


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def _predictor_pod(cluster: Cluster) -> Any:
    selector = ",".join(f"{k}={v}" for k, v in predictors.selector(MODEL).items())
    return eventually(
        lambda: next(iter(cluster.core.list_namespaced_pod(
            cluster.namespace, label_selector=selector).items), None),
        60,
        "the predictor Pod",
    )  # fmt: skip


def _run_container(pod: Any, inside: netns.Namespace, scratch: pathlib.Path) -> Any:
    """The Pod's one container, as the kubelet would start it (its emptyDir at ``scratch``)."""
    (container,) = pod.spec.containers
    assert container.command == builders.DEFAULT_COMMAND
    env = {e.name: e.value.replace(builders.SCRATCH_DIR, str(scratch)) for e in container.env or []}
    return inside.popen(
        [sys.executable, *container.command[1:], *container.args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _endpoint_ips(cluster: Cluster) -> list[str]:
    """The ready addresses the endpoints controller lists behind the predictor Service."""
    found = cluster.core.read_namespaced_endpoints(serving.predictor_name(MODEL), cluster.namespace)
    return [a.ip for subset in found.subsets or [] for a in subset.addresses or []]


def _mark_ready(cluster: Cluster, pod: Any, ip: str) -> None:
    now = cluster._now()
    cluster.core.patch_namespaced_pod_status(
        pod.metadata.name,
        cluster.namespace,
        {
            "status": {
                "phase": "Running",
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": now,
                "conditions": [
                    {"type": "Ready", "status": "True", "lastTransitionTime": now},
                    {"type": "ContainersReady", "status": "True"},
                ],
                "containerStatuses": [
                    {
                        "name": serving.CONTAINER,
                        "image": "textclf/trainer:test",
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


def test_predict_reaches_the_served_model_through_the_api_server(  # noqa: PLR0917  (fixtures)
    operator: handlers.Runtime,
    cluster: Cluster,
    template: str,
    control_plane: controlplane.ControlPlane,
    trained: runs.Trained,
    tmp_path: pathlib.Path,
) -> None:
    ns = cluster.namespace
    result = trained.outcome.result
    cluster.create_model(MODEL, concepts=list(result.concepts))

    # not served: the CLI says how to serve it
    refused = _textclf(control_plane, "predict", MODEL, "-n", ns, TEXTS[0])
    assert refused.returncode == 2
    assert f"model {MODEL} is not served: set spec.serving.enabled: true" in refused.stderr
    missing = _textclf(control_plane, "predict", "nosuch", "-n", ns, TEXTS[0])
    assert missing.returncode == 2
    assert f"TextClassifierModel nosuch not found in namespace {ns}" in missing.stderr

    # trained by the real trainer: the run's result is the one it wrote
    cluster.custom.patch_namespaced_custom_object(
        GROUP, VERSION, ns, "textclassifiermodels", MODEL,
        {"spec": {"serving": {"enabled": True}}},
    )  # fmt: skip
    cluster.create_run("reviews-v1")
    job_pod = cluster.pending_pod("reviews-v1")
    cluster.start_pod(job_pod)
    cluster.finish_pod(job_pod, 0, result.to_termination_message())
    cluster.wait_code("reviews-v1", codes.StatusCode.TRAINED)

    # served but no predictor ready yet: the API server has no endpoint, the CLI says so
    pod = _predictor_pod(cluster)
    waiting = _textclf(control_plane, "predict", MODEL, "-n", ns, TEXTS[0])
    assert waiting.returncode == 2
    assert f"the predictor of model {MODEL} did not answer (503" in waiting.stderr
    assert "Serving condition says RollingOut" in waiting.stderr

    with testnode.registered(cluster.core.api_client) as node, netns.namespace() as inside:
        testnode.bind(cluster.core.api_client, pod, node)
        process = _run_container(pod, inside, tmp_path)
        try:
            netns.wait_answers(
                f"http://{inside.ip}:{serving.CONTAINER_PORT}{serving.READY_PATH}", process
            )
            _mark_ready(cluster, pod, inside.ip)
            eventually(
                lambda: (cluster.model(MODEL).get("status") or {}).get("serving", {}).get(
                    "readyReplicas") == 1,
                60,
                "the model to count its ready predictor",
            )  # fmt: skip
            eventually(
                lambda: _endpoint_ips(cluster) == [inside.ip],
                60,
                f"the endpoints controller to list {inside.ip}; "
                f"Endpoints: {cluster.core.read_namespaced_endpoints(serving.predictor_name(MODEL), ns)}",
            )

            # the same output as --local on the same artifact, options applied alike
            artifact = str(trained.artifact)
            for options in ([], ["--max-concepts", "1"], ["--select-concepts", "negative"]):
                served = _textclf(
                    control_plane, "predict", MODEL, "-n", ns, "--json", *TEXTS, *options
                )
                assert served.returncode == 0, served.stderr
                local = _textclf(control_plane, "predict", "--local", artifact, "--json",
                                 *TEXTS, *options)  # fmt: skip
                assert local.returncode == 0, local.stderr
                got, want = _json_lines(served.stdout), _json_lines(local.stdout)
                assert [g["text"] for g in got] == TEXTS
                assert [[c["name"] for c in g["concepts"]] for g in got] == [
                    [c["name"] for c in w["concepts"]] for w in want
                ]
                for g, w in zip(got, want, strict=True):
                    for c, d in zip(g["concepts"], w["concepts"], strict=True):
                        assert c["value"] == pytest.approx(d["value"], abs=0.02)
            text_out = _textclf(control_plane, "predict", MODEL, "-n", ns, TEXTS[2])
            assert text_out.returncode == 0, text_out.stderr
            assert text_out.stdout.startswith(f"{TEXTS[2]!r}: positive 0.")

            # more texts than one request may carry go in several, answers in order
            many = [f"{TEXTS[i % 3]} ({i})" for i in range(serving.MAX_INSTANCES + 2)]
            listed = tmp_path / "texts.txt"
            listed.write_text("\n".join(many) + "\n")
            bulk = _textclf(control_plane, "predict", MODEL, "-n", ns, "--file", str(listed),
                            "--json")  # fmt: skip
            assert bulk.returncode == 0, bulk.stderr
            assert [line["text"] for line in _json_lines(bulk.stdout)] == many

            # the predictor's own refusal comes back in its words
            unknown = _textclf(control_plane, "predict", MODEL, "-n", ns, TEXTS[0],
                               "--select-concepts", "nope")  # fmt: skip
            assert unknown.returncode == 2
            assert (
                "refused: parameters.select_concepts: unknown concept(s) 'nope'" in unknown.stderr
            )
        finally:
            process.terminate()
            process.wait(10)
