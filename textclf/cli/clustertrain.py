"""``textclf train -f run.yaml`` on a cluster: the run file applied as a TrainingRun (checked first as
the API server will check it), and with ``--wait`` watched until it is trained or failed: a progress
bar from ``status.progress`` on a terminal (tqdm), a line per change otherwise, then the same summary
as ``textclf status``. Ctrl-C stops the waiting, never the run."""

from __future__ import annotations

import pathlib
import sys

import pydantic
import yaml

from textclf.api import GROUP, VERSION, codes, trainingrun
from textclf.cli import progressview, summary


def run(path: pathlib.Path, namespace: str | None, context: str | None, wait: bool) -> int:
    import kubernetes  # noqa: PLC0415

    from textclf.cluster import connect  # noqa: PLC0415
    from textclf.sdk import cluster  # noqa: PLC0415

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("kind") != "TrainingRun":
        sys.stderr.write(f"textclf train: {path} is not a TrainingRun\n")
        return 2
    try:
        trainingrun.TrainingRunSpec.model_validate(document.get("spec") or {})
    except pydantic.ValidationError as err:
        sys.stderr.write(f"textclf train: {path}: {err}\n")
        return 2
    meta = document.setdefault("metadata", {})
    conn = connect.connect(meta.get("namespace") or namespace, context=context)
    name = str(meta.get("name") or path.stem)
    meta["name"] = name
    try:
        kubernetes.client.CustomObjectsApi(conn.api).create_namespaced_custom_object(
            GROUP, VERSION, conn.namespace, trainingrun.PLURAL, document
        )
    except kubernetes.client.ApiException as err:
        if err.status == 409:
            sys.stderr.write(
                f"textclf train: TrainingRun {name} exists in {conn.namespace}; a run is a record "
                "of one training: name a new one\n"
            )
            return 2
        sys.stderr.write(
            f"textclf train: the API server refused {name}: {err.reason}: {err.body}\n"
        )
        return 2
    print(f"trainingrun {name} created in namespace {conn.namespace}", flush=True)
    if not wait:
        return 0
    view = progressview.View(name)
    try:
        status = cluster.ClusterBackend(conn).wait(
            conn.namespace, name, None, on_status=view.show_status
        )
    except KeyboardInterrupt:
        view.close()
        print(f"\nstopped waiting; {name} goes on: textclf status {name} -n {conn.namespace}")
        return 130
    finally:
        conn.close()
    view.close()
    print("\n" + summary.render(name, status))
    return 0 if status.code == codes.StatusCode.TRAINED else 1
