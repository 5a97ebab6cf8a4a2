"""More than one GPU: the run's ranks under torchrun's launcher, and which rank this process is.

With ``TEXTCLF_NPROC_PER_NODE`` above 1 (the operator sets it from ``resources.gpu``) the entry point
does not train in its own process: it starts that many copies of itself with torch's elastic launcher
(``torch.distributed.launcher``, what ``torchrun --standalone --nproc-per-node=N`` runs), each with
``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE`` set, and the Hugging Face Trainer in each runs
DistributedDataParallel (NCCL on GPUs, gloo on CPUs), never DataParallel. Only rank 0 writes the
artifact, the progress and the result. The launcher's exit code is rank 0's, so the Job's failure
policy still sees the user-error codes; a rank killed by a signal leaves the infrastructure code.
"""

from __future__ import annotations

import os
import sys
import uuid

from textclf.api import channels, codes
from textclf_trainer import hardware

NPROC_ENV = channels.NPROC_PER_NODE_ENV
"""How many ranks to run on this node; 1 (or unset) trains in the entry point's own process."""


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """Rank 0 (or the only process): the one that reports, evaluates and publishes."""
    return rank() == 0


def requested() -> int:
    """Ranks asked for, when this process is not itself one of the launched ranks."""
    if "LOCAL_RANK" in os.environ:  # set by the launcher in every rank
        return 1
    try:
        return max(1, int(os.environ.get(NPROC_ENV, "1") or 1))
    except ValueError:
        return 1


def launch(argv: list[str], nproc: int) -> int:
    """Run ``python -m textclf_trainer ARGV`` as ``nproc`` ranks on this node; rank 0's exit code."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError  # noqa: PLC0415
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch  # noqa: PLC0415

    # As torchrun does: no more compute threads in all ranks together than the CPUs there are.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, hardware.cpu_count() // nproc)))
    config = LaunchConfig(
        min_nodes=1,
        max_nodes=1,
        nproc_per_node=nproc,
        run_id=f"textclf-{uuid.uuid4().hex[:12]}",
        rdzv_backend="c10d",
        rdzv_endpoint="127.0.0.1:0",  # a free port on loopback: one node, like --standalone
        max_restarts=0,  # the Job retries the whole Pod
        monitor_interval=0.5,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "textclf_trainer", *argv)
    except ChildFailedError as exc:
        return exit_code({r: f.exitcode for r, f in exc.failures.items()})
    return int(codes.ExitCode.OK)


def exit_code(failures: dict[int, int]) -> int:
    """The Pod's exit code from the ranks that failed (negative: killed by that signal): rank 0's
    own code, else a user error of any rank (every rank meets the same bad data or params), else
    the first code, else the infrastructure code (a rank killed by a signal)."""
    own = failures.get(0, 0)
    if own > 0:
        return own
    user = sorted(c for c in failures.values() if c in codes.USER_ERROR_EXIT_CODES)
    if user:
        return user[0]
    positive = [failures[r] for r in sorted(failures) if failures[r] > 0]
    return positive[0] if positive else int(codes.ExitCode.INFRASTRUCTURE)
