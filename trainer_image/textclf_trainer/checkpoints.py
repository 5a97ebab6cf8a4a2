"""Checkpoints that outlive the Pod, so a preempted or retried attempt resumes instead of starting over.

The Trainer saves a full checkpoint (weights, optimizer, scheduler, RNG state) at each epoch, or every
``save_steps`` when the run asks for that, into ``folder``: next to the artifact on the run's own
volume, ``<output>.checkpoints/`` for a ``pvc://`` or ``file://`` output, so the next attempt of the
Job finds it. A remote output (``s3://``) has no such folder: its checkpoints stay in the Pod's
scratch and a new attempt starts over.

A checkpoint folder belongs to one run: ``owner.json`` holds the run's name and a digest of its spec
(template, params, data), and a folder written for another run or another spec is cleared rather
than resumed from. The folder is removed once the artifact is published.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import re
import shutil

from textclf_trainer import specs, storage

OWNER = "owner.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def owner_of(loaded: specs.LoadedRun) -> dict[str, str]:
    """What makes two attempts the same run: its name and everything that decides its training."""
    spec = loaded.spec.to_wire()
    spec.pop("output", None)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    return {"run": loaded.name, "spec": f"sha256:{digest}"}


@dataclasses.dataclass(frozen=True)
class Store:
    folder: pathlib.Path
    persistent: bool  # on the run's volume: survives the Pod

    def latest(self) -> pathlib.Path | None:
        """The newest complete checkpoint (the Trainer writes ``trainer_state.json`` last)."""
        found = [
            (int(m.group(1)), p)
            for p in self.folder.glob("checkpoint-*")
            if (m := _CHECKPOINT.match(p.name)) and (p / "trainer_state.json").exists()
        ]
        return max(found)[1] if found else None

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def step_of(checkpoint: pathlib.Path) -> int:
    match = _CHECKPOINT.match(checkpoint.name)
    return int(match.group(1)) if match else 0


def open_store(loaded: specs.LoadedRun, scratch: pathlib.Path, *, claim: bool = True) -> Store:
    """The run's checkpoint folder, claimed for this run (another run's checkpoints are cleared).
    Ranks other than 0 of a multi-GPU run only locate it: rank 0 claims it before they look."""
    output = storage.local_path(loaded.output_uri, loaded.base_dir)
    if output is None:
        store = Store(scratch / "checkpoints", persistent=False)
    else:
        store = Store(output.parent / f".{output.name}.checkpoints", persistent=True)
    if not claim:
        return store
    owner = owner_of(loaded)
    marker = store.folder / OWNER
    try:
        claimed = json.loads(marker.read_text()) == owner
    except (OSError, ValueError):
        claimed = False
    if not claimed:
        store.clear()
        store.folder.mkdir(parents=True, exist_ok=True)
        marker.write_text(json.dumps(owner, sort_keys=True) + "\n")
    return store
