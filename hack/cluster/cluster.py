"""A real one-node Kubernetes cluster on this machine: textclf's images run in real Pods.

``make cluster`` (``python hack/cluster/cluster.py up``) starts, beside the API-only dev cluster of
``hack/controlplane``: etcd, kube-apiserver (Node and RBAC authorizers, NodeRestriction),
kube-controller-manager and kube-scheduler; containerd with runc; a kubelet; the CNI bridge plugin
on a bridge of our own; kube-proxy in iptables mode; CoreDNS; a default StorageClass with
pre-made PersistentVolumes. It then installs textclf from the chart with the images ``make images``
built. ``make cluster-down`` stops it all and removes every process, mount, network namespace,
iptables rule, cgroup and link it made. One such cluster per machine: the bridge, port 53 on the
bridge address and the kubelet's port are fixed.

The machine needs root and Debian's runc, containerd, iptables and containernetworking-plugins
(``make setup`` installs them: ``hack/node/packages.sh``). What the node changes on the machine
outside its work folder, and the check that nothing of it is left, are in ``hoststate``. Pods live in network namespaces on this machine; a firewall rule drops
anything they send beyond the bridge, so nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "controlplane"))
sys.path.insert(0, str(HERE.parent / "images"))

import controlplane  # noqa: E402
import hoststate  # noqa: E402
import images  # noqa: E402

NODE_NAME = "textclf-node"
NODE_IP = "10.85.0.1"
POD_CIDR = "10.85.0.0/24"
CLUSTER_DOMAIN = "cluster.local"
KUBELET_PORT = 10250
NODE_CLIENTS: tuple[tuple[str, str | None], ...] = (
    (f"system:node:{NODE_NAME}", "system:nodes"),
    ("system:kube-scheduler", None),
    ("system:kube-proxy", None),
)
NODE_PROCESSES = ("kube-proxy", "coredns", "kubelet", "kube-scheduler")
"""Stopped in this order, before the containers, containerd and the control plane."""
PACKAGES = {
    "runc": "runc",
    "containerd": "containerd",
    "ctr": "containerd",
    "iptables": "iptables",
    "conntrack": "conntrack",
    "ip": "iproute2",
}
CNI_BIN = pathlib.Path("/usr/lib/cni")
RELEASE = "textclf"
RELEASE_NAMESPACE = "textclf-system"
PERSISTENT_VOLUMES = 6


class ClusterError(RuntimeError):
    """The cluster could not start or stop; the message says which part and why."""


def node_binaries() -> pathlib.Path:
    """kubelet, kube-scheduler, kube-proxy and coredns, built by ``hack/node/build.sh``."""
    try:
        done = subprocess.run(
            ["bash", str(HERE.parent / "node" / "build.sh")],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as err:
        raise ClusterError(f"building the node failed:\n{err.stderr[-4000:]}") from err
    return pathlib.Path(done.stdout.strip().splitlines()[-1])


def _run(argv: list[str], what: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise ClusterError(f"{what} failed: {' '.join(argv)}\n{done.stderr[-3000:]}")
    return done


def preflight() -> None:
    """Root and the Debian packages the node needs, each named when missing."""
    if os.geteuid() != 0:
        raise ClusterError(
            "a real node (containerd, runc, iptables, network namespaces) needs root"
        )
    missing = sorted({pkg for tool, pkg in PACKAGES.items() if shutil.which(tool) is None})
    if not (CNI_BIN / "bridge").exists():
        missing.append("containernetworking-plugins")
    if missing:
        raise ClusterError(f"install the Debian packages: apt-get install -y {' '.join(missing)}")


def _json(path: pathlib.Path, data: object) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return path


@dataclasses.dataclass
class Cluster:
    """The node's processes and state, all under ``workdir`` (images under the cache)."""

    workdir: pathlib.Path
    detach: bool = False

    def __post_init__(self) -> None:
        self.plane = controlplane.ControlPlane(
            self.workdir / "plane", detach=self.detach, address=NODE_IP, node_clients=NODE_CLIENTS
        )

    # --- paths ----------------------------------------------------------------------------------

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.workdir / "kubeconfig"

    @property
    def socket(self) -> pathlib.Path:
        return self.workdir / "containerd" / "containerd.sock"

    @property
    def state(self) -> pathlib.Path:
        return self.workdir / "containerd" / "state"

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``ctr`` against this node's containerd, in the namespace the kubelet uses."""
        return _run(
            ["ctr", "--address", str(self.socket), "-n", "k8s.io", *args], "ctr", check=check
        )

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.plane.kubectl(*args, stdin=stdin)

    # --- up -------------------------------------------------------------------------------------

    def up(self, archives: dict[str, pathlib.Path], timeout: float = 180.0) -> None:
        """Start everything and wait until the node is Ready and DNS answers."""
        preflight()
        bins = node_binaries()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._network_up()
        self.plane.start()
        shutil.copy(self.plane.kubeconfig, self.kubeconfig)
        self._containerd()
        self._load(archives)
        pki = self.plane.pki
        self.plane.spawn(
            "kube-scheduler",
            [
                str(bins / "kube-scheduler"),
                f"--kubeconfig={self._client_kubeconfig('kube-scheduler')}",
                "--leader-elect=false",
                "--secure-port=0",
            ],
        )
        self._kubelet(bins, pki)
        self._wait(self._node_ready, timeout, "kubelet", "the node to become Ready")
        self._proxy(bins)
        self._dns(bins)
        self._storage()

    def _network_up(self) -> None:
        """Our bridge with the node address (the API server binds to it before any Pod exists),
        forwarding on for Service traffic, and a rule that keeps Pods' packets on the bridge."""
        if _run(["ip", "link", "show", hoststate.BRIDGE], "ip link", check=False).returncode != 0:
            _run(["ip", "link", "add", hoststate.BRIDGE, "type", "bridge"], "creating the bridge")
        _run(
            ["ip", "addr", "replace", f"{NODE_IP}/24", "dev", hoststate.BRIDGE],
            "addressing the bridge",
        )
        _run(["ip", "link", "set", hoststate.BRIDGE, "up"], "raising the bridge")
        hoststate.save_sysctls(self.workdir / "sysctls.saved.json")
        hoststate.sysctl_path("net.ipv4.ip_forward").write_text("1\n")
        if _run(["iptables", "-C", "FORWARD", *self._fence()], "iptables", check=False).returncode:
            _run(["iptables", "-I", "FORWARD", "1", *self._fence()], "the forwarding fence")

    @staticmethod
    def _fence() -> list[str]:
        return [
            "-s", POD_CIDR, "!", "-d", POD_CIDR,
            "-m", "comment", "--comment", hoststate.RULE_COMMENT, "-j", "DROP",
        ]  # fmt: skip

    def _client_kubeconfig(self, stem: str) -> pathlib.Path:
        path = self.workdir / f"{stem}.kubeconfig"
        path.write_text(controlplane.kubeconfig_text(self.plane.server, self.plane.pki, stem))
        return path

    def _containerd(self) -> None:
        root = hoststate.containerd_root()
        root.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        cni_conf = self.workdir / "cni" / "net.d"
        _json(
            cni_conf / "10-textclf.conflist",
            {
                "cniVersion": "0.4.0",
                "name": hoststate.CNI_NETWORK,
                "plugins": [
                    {
                        "type": "bridge",
                        "bridge": hoststate.BRIDGE,
                        "isGateway": True,
                        "ipMasq": False,
                        "hairpinMode": True,
                        "ipam": {
                            "type": "host-local",
                            "ranges": [
                                [
                                    {
                                        "subnet": POD_CIDR,
                                        "rangeStart": "10.85.0.10",
                                        "gateway": NODE_IP,
                                    }
                                ]
                            ],
                            "routes": [{"dst": "0.0.0.0/0"}],
                            "dataDir": str(self.workdir / "cni" / "ipam"),
                        },
                    }
                ],
            },
        )
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        config = self.workdir / "containerd" / "config.toml"
        config.write_text(
            "\n".join(
                [
                    "version = 2",
                    f'root = "{root}"',
                    f'state = "{self.state}"',
                    "[grpc]",
                    f'  address = "{self.socket}"',
                    f"[{cri}]",
                    f'  sandbox_image = "{images.PAUSE}"',
                    # Lowering oom_score_adj below our own is refused on these machines.
                    "  restrict_oom_score_adj = true",
                    f"[{cri}.containerd]",
                    '  snapshotter = "overlayfs"',
                    '  default_runtime_name = "runc"',
                    f"[{cri}.containerd.runtimes.runc]",
                    '  runtime_type = "io.containerd.runc.v2"',
                    f"[{cri}.containerd.runtimes.runc.options]",
                    "  SystemdCgroup = false",  # the kubelet's cgroupfs driver, cgroup v1
                    f"[{cri}.cni]",
                    f'  bin_dir = "{CNI_BIN}"',
                    f'  conf_dir = "{cni_conf}"',
                    "",
                ]
            )
        )
        self.plane.spawn("containerd", ["containerd", "--config", str(config)])
        self._wait(
            lambda: self.ctr("version", check=False).returncode == 0,
            30,
            "containerd",
            "containerd's socket",
        )

    def _load(self, archives: dict[str, pathlib.Path]) -> None:
        """Import each archive once: a marker per archive in containerd's (persistent) root."""
        markers = hoststate.containerd_root() / "textclf-imported"
        markers.mkdir(exist_ok=True)
        listed = self.ctr("images", "ls", "-q").stdout.split()
        for reference, archive in archives.items():
            marker = markers / archive.name
            if marker.exists() and reference in listed:
                continue
            self.ctr("images", "import", "--no-unpack=false", str(archive))
            if reference not in self.ctr("images", "ls", "-q").stdout.split():
                raise ClusterError(f"importing {archive.name} did not make {reference}")
            for stale in markers.glob(archive.name.rsplit("-", 1)[0] + "-*"):
                stale.unlink()
            marker.touch()

    def _kubelet(self, bins: pathlib.Path, pki: pathlib.Path) -> None:
        resolv = self.workdir / "resolv.conf"
        resolv.write_text("# no upstream resolver: Pods use the cluster's CoreDNS only\n")
        config = _json(
            self.workdir / "kubelet" / "config.json",
            {
                "apiVersion": "kubelet.config.k8s.io/v1beta1",
                "kind": "KubeletConfiguration",
                "address": NODE_IP,
                "port": KUBELET_PORT,
                "readOnlyPort": 0,
                "healthzBindAddress": "127.0.0.1",
                "healthzPort": 0,
                "authentication": {
                    "anonymous": {"enabled": False},
                    "webhook": {"enabled": True},
                    "x509": {"clientCAFile": str(pki / "ca.crt")},
                },
                "authorization": {"mode": "Webhook"},
                "cgroupDriver": "cgroupfs",
                "failCgroupV1": False,  # these machines run cgroup v1
                "failSwapOn": False,
                "containerRuntimeEndpoint": f"unix://{self.socket}",
                "clusterDNS": [NODE_IP],
                "clusterDomain": CLUSTER_DOMAIN,
                "resolvConf": str(resolv),
                "podLogsDir": str(self.workdir / "pod-logs"),
                # Imported images cannot be pulled again: never collect them, never evict for disk.
                "imageGCHighThresholdPercent": 100,
                "imageGCLowThresholdPercent": 99,
                "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                                 "imagefs.available": "1%", "nodefs.inodesFree": "1%"},
                "serializeImagePulls": False,
                "maxPods": 60,
                "nodeStatusUpdateFrequency": "5s",
            },
        )  # fmt: skip
        self.plane.spawn(
            "kubelet",
            [
                str(bins / "kubelet"),
                f"--config={config}",
                f"--kubeconfig={self._client_kubeconfig(NODE_NAME)}",
                f"--root-dir={self.workdir / 'kubelet' / 'root'}",
                f"--cert-dir={self.workdir / 'kubelet' / 'pki'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={NODE_IP}",
                "--v=1",
            ],
        )

    def _node_ready(self) -> bool:
        done = self.kubectl(
            "get", "node", NODE_NAME, "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        )  # fmt: skip
        return done.returncode == 0 and done.stdout.strip() == "True"

    def _proxy(self, bins: pathlib.Path) -> None:
        config = _json(
            self.workdir / "kube-proxy" / "config.json",
            {
                "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
                "kind": "KubeProxyConfiguration",
                "clientConnection": {"kubeconfig": str(self._client_kubeconfig("kube-proxy"))},
                "mode": "iptables",
                "clusterCIDR": POD_CIDR,
                "hostnameOverride": NODE_NAME,
                "healthzBindAddress": f"127.0.0.1:{controlplane.free_port()}",
                "metricsBindAddress": f"127.0.0.1:{controlplane.free_port()}",
                "nodePortAddresses": [f"{NODE_IP}/32"],
                # Replies from a Service's Pod come back through the node, not across the bridge.
                "iptables": {"masqueradeAll": True, "syncPeriod": "10s", "minSyncPeriod": "0s"},
                # Zero: leave the host's conntrack table size and TCP timeouts as they are.
                "conntrack": {
                    "maxPerCore": 0,
                    "min": 0,
                    "tcpEstablishedTimeout": "0s",
                    "tcpCloseWaitTimeout": "0s",
                },
            },
        )
        self.plane.spawn("kube-proxy", [str(bins / "kube-proxy"), f"--config={config}", "--v=1"])

    def _dns(self, bins: pathlib.Path) -> None:
        """CoreDNS on the node address, answering cluster.local from the API; nothing upstream."""
        corefile = self.workdir / "coredns" / "Corefile"
        corefile.parent.mkdir(parents=True, exist_ok=True)
        corefile.write_text(
            f""".:53 {{
    bind {NODE_IP}
    errors
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {self.kubeconfig} textclf-dev
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
"""
        )
        self.plane.spawn("coredns", [str(bins / "coredns"), "-conf", str(corefile)])
        self._wait(
            lambda: self._dig(f"kubernetes.default.svc.{CLUSTER_DOMAIN}"),
            60,
            "coredns",
            "CoreDNS to answer",
        )

    @staticmethod
    def _dig(name: str) -> bool:
        """One A query to the node's CoreDNS (the host's own resolver does not know it)."""
        query = struct.pack(">HHHHHH", 0x7E57, 0x0100, 1, 0, 0, 0)
        query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        query += struct.pack(">HH", 1, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.sendto(query, (NODE_IP, 53))
                answer = sock.recv(512)
            except OSError:
                return False
        answers = struct.unpack(">H", answer[6:8])[0]
        return answer[3] & 0x0F == 0 and answers > 0

    def _storage(self) -> None:
        """A default StorageClass and hostPath PersistentVolumes for ``pvc://`` URIs."""
        objects: list[dict[str, object]] = [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
            }
        ]
        for index in range(PERSISTENT_VOLUMES):
            folder = self.workdir / "volumes" / f"pv{index}"
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o1777)  # written by non-root Pods (the trainer runs as 65532)
            objects.append(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": f"textclf-pv{index}"},
                    "spec": {
                        "capacity": {"storage": "10Gi"},
                        "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                        "storageClassName": "standard",
                        "persistentVolumeReclaimPolicy": "Retain",
                        "hostPath": {"path": str(folder), "type": "Directory"},
                    },
                }
            )
        applied = self.kubectl(
            "apply",
            "-f",
            "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}),
        )
        if applied.returncode != 0:
            raise ClusterError(f"storage: {applied.stderr}")

    def _wait(self, ready: object, timeout: float, process: str, what: str) -> None:
        assert callable(ready)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.plane.check_alive()
            except controlplane.ControlPlaneError as err:
                raise ClusterError(str(err)) from err
            if ready():
                return
            time.sleep(0.5)
        raise ClusterError(
            f"timed out after {timeout:.0f}s waiting for {what}; {process}'s log ends:\n"
            f"{self.plane.log_tail(process)}"
        )

    # --- textclf --------------------------------------------------------------------------------

    def install(self, timeout: float = 180.0) -> None:
        """``helm install`` of the chart with the images built here; waits for the operator."""
        helm = self.plane.workdir / "bin" / "helm"
        done = _run(
            [
                str(helm), "upgrade", "--install", RELEASE, str(ROOT / "charts" / "textclf-operator"),
                f"--kubeconfig={self.kubeconfig}", "--namespace", RELEASE_NAMESPACE,
                "--create-namespace", "--wait", f"--timeout={int(timeout)}s",
                "--set", f"image.repository={images.OPERATOR.split(':')[0]}",
                "--set", f"image.tag={images.TAG}",
                "--set", f"trainingTemplates.image.repository={images.TRAINER_TEST.split(':')[0]}",
                "--set", f"trainingTemplates.image.tag={images.TAG}",
            ],
            "helm install",
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"helm install failed:\n{done.stderr}\n{self.describe()}")

    def describe(self) -> str:
        """Pods, events and logs of every namespace: what a failure report needs."""
        parts = []
        for args in (
            ("get", "trainingruns,textclassifiermodels,modelevaluations,jobs", "-A", "-o", "wide"),
            ("get", "pods", "-A", "-o", "wide"),
            ("get", "events", "-A", "--sort-by=.lastTimestamp"),
        ):
            done = self.kubectl(*args)
            parts.append(f"$ kubectl {' '.join(args)}\n{done.stdout}{done.stderr}")
        pods = self.kubectl("get", "pods", "-A", "-o", "json")
        if pods.returncode == 0:
            for pod in json.loads(pods.stdout)["items"]:
                meta = pod["metadata"]
                logs = self.kubectl(
                    "logs", "-n", meta["namespace"], meta["name"], "--all-containers", "--tail=25"
                )
                parts.append(f"$ kubectl logs -n {meta['namespace']} {meta['name']}\n{logs.stdout}")
        for process in ("kubelet", "containerd", "kube-proxy", "coredns"):
            tail = "\n".join(self.plane.log_tail(process).splitlines()[-15:])
            parts.append(f"$ tail logs/{process}.log\n{tail}")
        return "\n".join(parts)

    # --- down -----------------------------------------------------------------------------------

    def down(self) -> None:
        """Stop everything and remove all it made on the machine, then the work folder. Every step
        runs even when one before it failed; the control plane stops last, whatever happened."""
        try:
            self.plane.stop(NODE_PROCESSES)
            netns = self._remove_containers()
            self.plane.stop(("containerd",))
            hoststate.kill_matching(str(self.socket))  # shims outlive containerd by design
            hoststate.kill_pods()
            for mount in sorted(
                hoststate.mounts_under(self.workdir, hoststate.containerd_root()), reverse=True
            ):
                _run(["umount", mount], "umount", check=False)
            for path in netns:
                _run(["umount", path], "umount", check=False)
                pathlib.Path(path).unlink(missing_ok=True)
            hoststate.remove_kube_chains()  # and our fence
            _run(["ip", "link", "del", hoststate.BRIDGE], "ip link del", check=False)
            hoststate.remove_links_into(self.workdir)
            for cached in hoststate.CNI_CACHE.glob(f"{hoststate.CNI_NETWORK}-*"):
                cached.unlink()
            hoststate.restore_sysctls(self.workdir / "sysctls.saved.json")
            hoststate.remove_cgroups("kubepods")
        finally:
            self.plane.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _remove_containers(self) -> list[str]:
        """Kill and delete every container; return the network namespaces their sandboxes held."""
        if not self.socket.exists() or self.ctr("version", check=False).returncode != 0:
            return (
                sorted(str(p) for p in hoststate.NETNS_DIR.glob("cni-*"))
                if hoststate.NETNS_DIR.exists()
                else []
            )
        netns: set[str] = set()
        for container in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            info = self.ctr("containers", "info", container, check=False)
            with contextlib.suppress(ValueError, KeyError, TypeError):
                for ns in json.loads(info.stdout)["Spec"]["linux"]["namespaces"]:
                    if ns.get("type") == "network" and str(ns.get("path", "")).startswith(
                        f"{hoststate.NETNS_DIR}/"
                    ):
                        netns.add(ns["path"])
            self.ctr("tasks", "kill", "-s", "SIGKILL", container, check=False)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "RUNNING" not in self.ctr("tasks", "ls", check=False).stdout:
                break
            time.sleep(0.2)
        for container in self.ctr("containers", "ls", "-q", check=False).stdout.split():
            self.ctr("tasks", "delete", "-f", container, check=False)
            self.ctr("containers", "delete", container, check=False)
        return sorted(netns)


@contextlib.contextmanager
def running(workdir: pathlib.Path, archives: dict[str, pathlib.Path]) -> Iterator[Cluster]:
    """A cluster for the duration of a ``with`` block, removed without a trace afterwards."""
    cluster = Cluster(workdir)
    try:
        cluster.up(archives)
        yield cluster
    finally:
        cluster.down()


def build_images() -> dict[str, pathlib.Path]:
    try:
        return images.build_all()
    except images.ImageError as err:
        raise ClusterError(str(err)) from err


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start or stop textclf's real one-node cluster.")
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(".cluster"))
    args = parser.parse_args(argv)
    workdir = args.dir.resolve()
    try:
        if args.action == "down":
            Cluster(workdir).down()
            left = hoststate.leftovers(workdir)
            print(
                f"stopped; removed {args.dir}" if not left else "left behind:\n" + "\n".join(left)
            )
            return 0 if not left else 1
        if (workdir / "plane" / "pids").exists():
            print(f"{args.dir} is in use: run `make cluster-down` first", file=sys.stderr)
            return 1
        started = time.monotonic()
        archives = build_images()
        cluster = Cluster(workdir, detach=True)
        try:
            cluster.up(archives)
            cluster.install()
        except ClusterError:
            cluster.down()
            raise
    except ClusterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(
        f"cluster ready in {time.monotonic() - started:.0f}s: one node, textclf installed\n"
        f"  export KUBECONFIG={args.dir}/kubeconfig PATH={args.dir}/plane/bin:$PATH\n"
        "  kubectl create configmap imdb --from-file=examples/data/clarifai_imdb/train.csv \\\n"
        "    --from-file=examples/data/clarifai_imdb/test.csv\n"
        "  kubectl apply -f examples/kubernetes/artifacts-claim.yaml -f examples/quickstart.yaml\n"
        "  kubectl get tcm,tr -w\n"
        "Stop it with `make cluster-down`."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
