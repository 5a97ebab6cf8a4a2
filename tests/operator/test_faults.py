"""Faults while 200 runs are in flight: the operator killed (SIGKILL) three times and paused once (its
watches stall), kube-apiserver and etcd each killed and restarted. Afterwards every run has exactly
one Job, the final code its Pods earned and, when trained, its metrics: nothing lost, nothing
duplicated, no wrong code. The counts are printed.

The operator runs as its own process, as in a cluster; the control plane is this test's own, since
it is the thing being broken. The test plays the kubelet (start each Pod, then end it with the exit
code and termination message of its run's fate) from a thread that shrugs off API outages.
"""

from __future__ import annotations

import collections
import contextlib
import os
import pathlib
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import kubernetes
import pytest

import controlplane
from tests.operator.support import (
    Cluster,
    Operator,
    create_template,
    eventually,
    operator_process,
    result_message,
)
from textclf.api import GROUP, VERSION, codes
from textclf_operator import builders

pytestmark = pytest.mark.cluster

RUNS = 200
NAMESPACE = "faults"

Fate = tuple[str, codes.DetailCode | None]
"""A run's expected final (code, detail code)."""
TRAINED: Fate = (codes.StatusCode.TRAINED, None)
NO_DATA: Fate = (codes.StatusCode.FAILED, codes.DetailCode.NO_DATA)


def fate(index: int) -> str:
    """What the run's Pods do: train; fail on the user's data; fail once on infrastructure, then
    train in a second Pod."""
    return ("trains", "no-data", "trains", "retried")[index % 4]


EXPECTED = {"trains": TRAINED, "no-data": NO_DATA, "retried": TRAINED}


def _exit(kind: str, attempt: int) -> tuple[int, str]:
    if kind == "no-data":
        return int(codes.ExitCode.NO_DATA), ""  # the exit code alone says which user error
    if kind == "retried" and attempt == 0:
        return 1, "the node went away"  # not a user error: the Job makes another Pod
    return 0, result_message()


class Kubelet:
    """Starts every Pod of the namespace, then ends it as its run's fate says, no sooner than its
    run's time to end (spread over the faults, so they hit runs at every stage); API errors (the
    server restarting) are counted and retried on the next pass."""

    def __init__(self, cluster: Cluster, fates: dict[str, str], ends: dict[str, float]) -> None:
        self.cluster, self.fates, self.ends = cluster, fates, ends
        self.started: set[str] = set()
        self.ended: set[str] = set()
        self.attempts: collections.Counter[str] = collections.Counter()
        self.api_errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._pass()
            except Exception:  # refused, reset, retries exhausted: the API server is down
                self.api_errors += 1
                time.sleep(0.5)
            self.stop.wait(0.2)

    def _pass(self) -> None:
        pods: Any = self.cluster.core.list_namespaced_pod(self.cluster.namespace)
        for pod in sorted(pods.items, key=lambda p: p.metadata.creation_timestamp):
            uid = pod.metadata.uid
            run = pod.metadata.labels[builders.RUN_LABEL]
            if uid in self.ended or pod.status.phase in ("Succeeded", "Failed"):
                self.ended.add(uid)
                continue
            if uid not in self.started:
                self.cluster.start_pod(pod)
                self.started.add(uid)
                continue
            if time.monotonic() < self.ends[run] + 2 * self.attempts[run]:
                continue
            exit_code, message = _exit(self.fates[run], self.attempts[run])
            self.cluster.finish_pod(pod, exit_code, message)
            self.attempts[run] += 1
            self.ended.add(uid)


@contextlib.contextmanager
def _background(target: Callable[[], None]) -> Iterator[None]:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    yield
    thread.join(timeout=30)


def test_runs_come_out_right_through_operator_apiserver_and_etcd_crashes(
    tmp_path: pathlib.Path,
) -> None:
    seed = int(os.environ.get("TEXTCLF_FAULT_SEED", random.randrange(1 << 16)))
    pace = random.Random(seed)
    faults: list[str] = []

    def fault(what: str) -> None:
        """Record a fault with the number of runs not finished when it struck."""
        done = (TRAINED[0], NO_DATA[0])
        open_runs = sum(s.get("code") not in done for s in _statuses(cluster).values())
        faults.append(f"{what} ({open_runs} runs in flight)")

    with controlplane.running(tmp_path / "plane") as plane:
        plane.kubectl("apply", "--server-side", "-f", str(pathlib.Path("crds").resolve()))
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        api_client = kubernetes.config.new_client_from_config(config_file=str(plane.kubeconfig))  # type: ignore[no-untyped-call]
        kubernetes.client.CoreV1Api(api_client).create_namespace(
            {"metadata": {"name": NAMESPACE}}  # type: ignore[arg-type]
        )
        eventually(
            lambda: _default_account(api_client), 60, "the namespace's default ServiceAccount"
        )
        create_template(api_client)
        cluster = Cluster(api_client, NAMESPACE)
        cluster.create_model()
        fates = {f"run-{i:03d}": fate(i) for i in range(RUNS)}
        now = time.monotonic()
        kubelet = Kubelet(cluster, fates, {name: now + pace.uniform(2, 25) for name in fates})
        with contextlib.ExitStack() as operators, _background(kubelet.run):
            count = [0]

            def start() -> Operator:
                count[0] += 1
                log = tmp_path / f"operator-{count[0]}.log"
                return operators.enter_context(operator_process(plane, log))

            def pause(low: float, high: float) -> None:
                time.sleep(pace.uniform(low, high))

            operator = start()
            for name in fates:
                cluster.create_run(name)
            pause(0.5, 2)
            for round_ in range(3):
                fault(f"operator killed ({round_ + 1})")
                operator.process.send_signal(signal.SIGKILL)
                operator.process.wait()
                pause(0.2, 1.5)
                operator = start()
                pause(0.5, 2)
                if round_ == 0:
                    fault("kube-apiserver killed and restarted")
                    plane.restart("kube-apiserver", kill=True)
                elif round_ == 1:
                    fault("etcd killed and restarted")
                    plane.restart("etcd", kill=True)
                pause(0.5, 2)
            fault("operator paused (its watches stall)")
            operator.process.send_signal(signal.SIGSTOP)
            pause(3, 6)
            operator.process.send_signal(signal.SIGCONT)

            def settled() -> bool:
                done = (TRAINED[0], NO_DATA[0])
                return all(s.get("code") in done for s in _statuses(cluster).values())

            eventually(settled, 300, "every run to finish")
            kubelet.stop.set()
        codes_seen = _statuses(cluster)
        jobs: Any = cluster.batch.list_namespaced_job(NAMESPACE)
        job_count = collections.Counter(j.metadata.labels[builders.RUN_LABEL] for j in jobs.items)
        wrong = {
            name: (status.get("code"), status.get("detailCode"))
            for name, status in codes_seen.items()
            if (status.get("code"), status.get("detailCode")) != EXPECTED[fates[name]]
        }
        no_metrics = [
            name
            for name, status in codes_seen.items()
            if status.get("code") == TRAINED[0]
            and ((status.get("metrics") or {}).get("test") or {}).get("accuracy") != 0.87
        ]
        duplicated = {name: n for name, n in job_count.items() if n != 1}
        lost = sorted(set(fates) - set(job_count))
        print(
            f"\nfault injection (seed {seed}): {'; '.join(faults)}\n"
            f"  runs {RUNS}: trained {sum(s.get('code') == TRAINED[0] for s in codes_seen.values())}"
            f", failed {sum(s.get('code') == NO_DATA[0] for s in codes_seen.values())}"
            f" | wrong code {len(wrong)}, trained without metrics {len(no_metrics)}"
            f", runs without a Job {len(lost)}, runs with more than one Job {len(duplicated)}"
            f" | kubelet passes refused by the API {kubelet.api_errors}"
            f", Pods ended {len(kubelet.ended)}"
        )
    assert not wrong, wrong
    assert not no_metrics, no_metrics
    assert not lost, lost
    assert not duplicated, duplicated
    # the retried runs really went through a second Pod
    assert all(kubelet.attempts[name] == 2 for name, kind in fates.items() if kind == "retried")


def _statuses(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """Every run's status, from one list."""
    listed: Any = cluster.custom.list_namespaced_custom_object(
        GROUP, VERSION, cluster.namespace, "trainingruns"
    )
    return {r["metadata"]["name"]: r.get("status") or {} for r in listed["items"]}


def _default_account(api_client: kubernetes.client.ApiClient) -> bool:
    try:
        kubernetes.client.CoreV1Api(api_client).read_namespaced_service_account(
            "default", NAMESPACE
        )
    except kubernetes.client.ApiException:
        return False
    return True
