"""What a node changes on this machine outside its work folder, how to undo it, and how to check
that nothing is left: processes in Pod cgroups, mounts, network namespaces, veths, iptables rules of
the kubelet and kube-proxy, cgroups, kernel settings, log links and the CNI cache. ``cluster.down``
undoes; ``leftovers`` is what tests and ``make cluster-down`` check afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import images

BRIDGE = "textclf0"
RULE_COMMENT = "textclf-cluster"
CGROUP_ROOT = pathlib.Path("/sys/fs/cgroup")
NETNS_DIR = pathlib.Path("/var/run/netns")
CNI_NETWORK = "textclf"
CNI_CACHE = pathlib.Path("/var/lib/cni/results")
"""Where the CNI library caches each attachment's result (not removed for Pods killed at down)."""
CONTAINER_LOG_LINKS = pathlib.Path("/var/log/containers")
SYSCTLS = (
    "net.ipv4.ip_forward",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
)
"""Kernel settings the node changes (forwarding for Services; the kubelet's defaults), restored at
down."""


def containerd_root() -> pathlib.Path:
    """containerd's content and snapshots: kept across clusters, so images load once per build."""
    return images.cache_dir().parent / "containerd"


def _quiet(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """A command whose failure is an answer (nothing to delete, no such link), not an error."""
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def kill_pods(grace: float = 10.0) -> None:
    """Any process still in a Pod's cgroup (a container whose shim was gone), until none is left."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        pids = [
            int(pid)
            for procs in (CGROUP_ROOT / "pids" / "kubepods").rglob("cgroup.procs")
            for pid in read(procs).split()
        ]
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def read(path: pathlib.Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_text()
    return ""


def save_sysctls(saved: pathlib.Path) -> None:
    """The kernel settings the kubelet and kube-proxy change, as they were before the node."""
    if not saved.exists():
        saved.write_text(json.dumps({name: read(sysctl_path(name)) for name in SYSCTLS}))


def restore_sysctls(saved: pathlib.Path) -> None:
    if saved.exists():
        for name, value in json.loads(saved.read_text()).items():
            with contextlib.suppress(OSError):
                sysctl_path(name).write_text(value)


def sysctl_path(name: str) -> pathlib.Path:
    return pathlib.Path("/proc/sys") / name.replace(".", "/")


def sysctls() -> dict[str, str]:
    """The current values of the kernel settings a node changes (compare before and after)."""
    return {name: read(sysctl_path(name)).strip() for name in SYSCTLS}


def remove_links_into(workdir: pathlib.Path) -> None:
    """The kubelet's /var/log/containers links, which point into the node's work folder."""
    for link in links_into(workdir):
        link.unlink()


def links_into(workdir: pathlib.Path) -> list[pathlib.Path]:
    if not CONTAINER_LOG_LINKS.is_dir():
        return []
    prefix = str(workdir.resolve()) + "/"
    return [
        link
        for link in CONTAINER_LOG_LINKS.iterdir()
        if link.is_symlink() and os.readlink(link).startswith(prefix)
    ]


def kill_matching(needle: str) -> None:
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (proc / "cmdline").read_bytes().decode(errors="replace"):
                os.kill(int(proc.name), signal.SIGKILL)


def mounts_under(*roots: pathlib.Path) -> list[str]:
    prefixes = tuple(str(root.resolve()) + "/" for root in roots)
    found = []
    for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes):
            found.append(point)
    return found


IPTABLES = ("iptables", "ip6tables")
TABLES = ("filter", "nat", "mangle")


def kube_rules() -> Iterator[tuple[str, str, str]]:
    """(command, table, rule) of every rule and chain the kubelet and kube-proxy made."""
    for command in IPTABLES:
        if shutil.which(command) is None:
            continue
        for table in TABLES:
            listed = _quiet([command, "-t", table, "-S"]).stdout
            for rule in listed.splitlines():
                if "KUBE-" in rule or RULE_COMMENT in rule:
                    yield command, table, rule


def remove_kube_chains() -> None:
    """The kubelet's and kube-proxy's iptables chains: jumps into them first, then the chains."""
    chains = []
    for command, table, rule in list(kube_rules()):
        if rule.startswith("-N "):
            chains.append((command, table, rule.split()[1]))
        elif rule.startswith("-A ") and rule.split()[1].startswith("KUBE-") is False:
            _quiet([command, "-t", table, "-D", *shlex.split(rule)[1:]])
    for command, table, chain in chains:
        _quiet([command, "-t", table, "-F", chain])
    for command, table, chain in chains:
        _quiet([command, "-t", table, "-X", chain])


def host_veths() -> list[str]:
    """Host ends of Pod veths (the CNI bridge plugin names them veth + 8 hex digits)."""
    listed = _quiet(["ip", "-o", "link", "show", "type", "veth"]).stdout
    names = [
        line.split(":")[1].strip().split("@")[0] for line in listed.splitlines() if ":" in line
    ]
    return [name for name in names if re.fullmatch(r"veth[0-9a-f]{8}", name)]


def remove_cgroups(name: str) -> None:
    """The kubelet's cgroup tree in every v1 hierarchy, deepest first (rmdir of empty groups)."""
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / name
        if not top.is_dir():
            continue
        for group in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            with contextlib.suppress(OSError):
                group.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def leftovers(workdir: pathlib.Path) -> list[str]:
    """What a stopped cluster left on the machine (empty when ``down`` cleaned up everything)."""
    found = []
    if workdir.exists():
        found.append(f"folder {workdir}")
    found += [f"mount {m}" for m in mounts_under(workdir, containerd_root())]
    if NETNS_DIR.exists():
        found += [f"netns {p.name}" for p in NETNS_DIR.glob("cni-*")]
    if _quiet(["ip", "link", "show", BRIDGE]).returncode == 0:
        found.append(f"link {BRIDGE}")
    found += [f"{command} -t {table} {rule}" for command, table, rule in kube_rules()]
    found += [
        f"cgroup {h.name}/kubepods" for h in CGROUP_ROOT.iterdir() if (h / "kubepods").is_dir()
    ]
    found += [f"log link {link}" for link in links_into(workdir)]
    found += [f"CNI cache {path}" for path in CNI_CACHE.glob(f"{CNI_NETWORK}-*")]
    found += [f"veth {name}" for name in host_veths()]
    needle = str(workdir.resolve())
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            with contextlib.suppress(OSError):
                cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
                if needle in cmdline:
                    found.append(f"process {proc.name}: {cmdline.replace(chr(0), ' ')[:120]}")
    return found
