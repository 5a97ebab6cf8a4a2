"""Operator benchmark: how fast a TrainingRun becomes a Job and gets its first status, at scale.

Starts the real control plane and the real operator as its own process (``kopf run``, as the
Deployment runs it), creates N runs at once in a fresh namespace, and watches Jobs and TrainingRuns
from the client side, so each latency is measured from the moment the client sent the create to the
moment the watch saw the Job / the first status; beside them, create -> the client's own watch
getting the run: the API server's part, which no operator can beat. Reports p50 and p99 per N, the
operator process's RSS (from /proc, before and after, and its peak), API requests per run that the
operator sent (its ``textclf_api_requests_total`` metric; the watch streams, one per kind, are not
counted), and the CPU time of each process sharing the cores (operator, API server, etcd,
controller manager and the benchmark client itself) from the first create until all was seen.

    python bench/operator_latency.py --runs 1 100 1000 --out bench/results/operator-latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, cast

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "hack" / "controlplane"), str(REPO)]

import kubernetes  # noqa: E402

import controlplane  # noqa: E402
from tests.operator.support import (  # noqa: E402
    TEMPLATE,
    Cluster,
    Operator,
    cpu_seconds,
    operator_process,
)
from textclf.api import GROUP, VERSION  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _watch(
    api_client: kubernetes.client.ApiClient,
    *,
    namespace: str,
    kind: str,
    seen: dict[str, float],
    created: dict[str, float] | None = None,
    expected: int,
    stop: threading.Event,
) -> None:
    watcher = kubernetes.watch.Watch()
    if kind == "jobs":
        stream = watcher.stream(
            kubernetes.client.BatchV1Api(api_client).list_namespaced_job,
            namespace,
            timeout_seconds=600,
        )
    else:
        stream = watcher.stream(
            kubernetes.client.CustomObjectsApi(api_client).list_namespaced_custom_object,
            GROUP,
            VERSION,
            namespace,
            "trainingruns",
            timeout_seconds=600,
        )
    for event in stream:
        obj = event["object"]
        if kind == "jobs":
            name = obj.metadata.labels["textclf.io/run"]
            seen.setdefault(name, time.monotonic())
        else:
            if created is not None:  # the run itself, as any watcher gets it
                created.setdefault(obj["metadata"]["name"], time.monotonic())
            if (obj.get("status") or {}).get("code"):
                seen.setdefault(obj["metadata"]["name"], time.monotonic())
        if len(seen) >= expected or stop.is_set():
            watcher.stop()
            return


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def measure(
    operator: Operator,
    api_client: kubernetes.client.ApiClient,
    runs: int,
    others: dict[str, int],
) -> dict[str, Any]:
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    core = kubernetes.client.CoreV1Api(api_client)
    core.create_namespace(cast("Any", {"metadata": {"name": namespace}}))
    cluster = Cluster(api_client, namespace)
    cluster.create_model()
    jobs_seen: dict[str, float] = {}
    status_seen: dict[str, float] = {}
    runs_seen: dict[str, float] = {}
    stop = threading.Event()
    watchers = [
        threading.Thread(
            target=_watch,
            kwargs={
                "api_client": api_client,
                "namespace": namespace,
                "kind": k,
                "seen": d,
                "created": runs_seen if k == "runs" else None,
                "expected": runs,
                "stop": stop,
            },
            daemon=True,
        )
        for k, d in (("jobs", jobs_seen), ("runs", status_seen))
    ]
    for w in watchers:
        w.start()
    time.sleep(1.0)  # let the watches open
    requests_before = operator.api_requests()
    rss_before = operator.memory_mib()
    cpu_before = operator.cpu_seconds()
    others_before = _cpu(others)
    started = time.monotonic()
    sent: dict[str, float] = {}
    for i in range(runs):
        name = f"run-{i:04d}"
        sent[name] = time.monotonic()
        cluster.create_run(name)
    created_s = time.monotonic() - started
    deadline = time.monotonic() + 600
    while (len(jobs_seen) < runs or len(status_seen) < runs) and time.monotonic() < deadline:
        time.sleep(0.2)
    converged_s = time.monotonic() - started
    others_cpu = {k: v - others_before[k] for k, v in _cpu(others).items()}
    stop.set()
    time.sleep(2.0)  # let trailing writes (model status, events) land before counting
    to_job = [jobs_seen[n] - sent[n] for n in sent if n in jobs_seen]
    to_status = [status_seen[n] - sent[n] for n in sent if n in status_seen]
    to_watch = [runs_seen[n] - sent[n] for n in sent if n in runs_seen]
    result = {
        "runs": runs,
        "jobs_seen": len(to_job),
        "statuses_seen": len(to_status),
        "to_job_p50_s": round(statistics.median(to_job), 3),
        "to_job_p99_s": round(_percentile(to_job, 0.99), 3),
        "to_status_p50_s": round(statistics.median(to_status), 3),
        "to_status_p99_s": round(_percentile(to_status, 0.99), 3),
        # the API server's part: from the create to a watcher (this client) getting the run
        "to_run_watched_p50_s": round(statistics.median(to_watch), 3),
        "to_run_watched_p99_s": round(_percentile(to_watch, 0.99), 3),
        "operator_requests_per_run": round((operator.api_requests() - requests_before) / runs, 2),
        "process_rss_mib_before": round(rss_before, 1),
        "process_rss_mib_after": round(operator.memory_mib(), 1),
        "process_rss_mib_peak": round(operator.memory_mib("VmHWM"), 1),
        # where the time goes: the client's creates, all Jobs and statuses seen, the operator's CPU
        "client_create_s": round(created_s, 2),
        "all_seen_s": round(converged_s, 2),
        "operator_cpu_s": round(operator.cpu_seconds() - cpu_before, 2),
        # what shares the cores, from the first create until all was seen
        "others_cpu_s": {name: round(seconds, 2) for name, seconds in others_cpu.items()},
    }
    core.delete_namespace(namespace)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp, controlplane.running(pathlib.Path(tmp)) as plane:
        plane.kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
        plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
        api_client = kubernetes.config.new_client_from_config(config_file=str(plane.kubeconfig))  # type: ignore[no-untyped-call]
        kubernetes.client.CustomObjectsApi(api_client).create_cluster_custom_object(
            GROUP,
            VERSION,
            "trainingtemplates",
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": "TrainingTemplate",
                "metadata": {"name": TEMPLATE},
                "spec": {"image": "textclf/trainer:bench"},
            },
        )
        with operator_process(plane, pathlib.Path(tmp) / "operator.log") as operator:
            others = {name: proc.pid for name, proc in plane.processes.items()}
            others["client"] = os.getpid()  # the benchmark: creates and watches
            for n in args.runs:
                results.append(measure(operator, api_client, n, others))
                print(json.dumps(results[-1]), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
