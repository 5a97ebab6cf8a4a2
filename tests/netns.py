"""Network namespaces the test harness makes on this machine: a process inside one listens on an
address of its own that is not loopback, as a Pod's does, so the API server (which refuses to proxy
to loopback) can reach it, and every packet stays on this machine.

Each namespace gets a veth pair on a /30 of ``10.213.0.0/16`` that no interface here uses yet: the
host end takes the first address, the namespace end (the "Pod IP") the second. Both go when the
context exits, with any process still inside. Needs root, as the kubelet does; without it the test
fails, since this is a part of the harness, not an optional extra.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import ipaddress
import json
import pathlib
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

POOL = ipaddress.ip_network("10.213.0.0/16")
LOCK = pathlib.Path(tempfile.gettempdir()) / "textclf-netns.lock"


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr.strip()}"
    return done.stdout


def _free_subnet() -> ipaddress.IPv4Network:
    taken = [
        ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}").network
        for link in json.loads(_ip("-j", "addr") or "[]")
        for a in link.get("addr_info", [])
        if a.get("family") == "inet"
    ]
    for subnet in POOL.subnets(new_prefix=30):
        if not any(subnet.overlaps(other) for other in taken):
            return subnet  # type: ignore[return-value]
    raise AssertionError(f"no free /30 left in {POOL}")


@dataclasses.dataclass(frozen=True)
class Namespace:
    name: str
    host_ip: str
    ip: str
    """The address of processes inside (a Pod IP)."""

    def popen(self, command: Sequence[str], **options: Any) -> subprocess.Popen[bytes]:
        """``command`` inside the namespace (``ip netns exec`` execs it: the PID is its own)."""
        return subprocess.Popen(["ip", "netns", "exec", self.name, *command], **options)


@contextlib.contextmanager
def _allocating() -> Iterator[None]:
    """Held from choosing a /30 until its address is on an interface: test processes running side
    by side (pytest-xdist workers) never take the same one."""
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def namespace() -> Iterator[Namespace]:
    name = f"tc{uuid.uuid4().hex[:8]}"
    host_end, inner_end = f"{name}h", f"{name}p"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", inner_end)
        _ip("link", "set", inner_end, "netns", name)
        with _allocating():
            subnet = _free_subnet()
            host_ip, inner_ip = (str(a) for a in list(subnet.hosts())[:2])
            _ip("addr", "add", f"{host_ip}/30", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", name, "addr", "add", f"{inner_ip}/30", "dev", inner_end)
        _ip("-n", name, "link", "set", inner_end, "up")
        _ip("-n", name, "link", "set", "lo", "up")
        yield Namespace(name, host_ip, inner_ip)
    finally:
        pids = subprocess.run(
            ["ip", "netns", "pids", name], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in pids:
            subprocess.run(["kill", "-9", pid], check=False)
        subprocess.run(["ip", "link", "del", host_end], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def wait_answers(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until ``url`` (of ``process``, inside a namespace) answers 200, as a readiness probe; the
    process's output when it ends first. A probe that times out (the server busy loading its model
    on a loaded machine) is a failed probe, retried like a kubelet's, not an error."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            said = process.stdout.read().decode(errors="replace") if process.stdout else ""
            raise AssertionError(f"the process behind {url} ended: {said[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:  # URLError, HTTPError, refused, reset, and read timeouts alike
            assert time.monotonic() < deadline, f"{url} never answered 200"
            time.sleep(0.2)
