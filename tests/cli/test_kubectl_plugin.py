"""``kubectl textclf ...``: the installed ``kubectl-textclf`` entry point found and run by the real
kubectl as a plugin, against the real control plane, with kubectl's own KUBECONFIG."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import uuid

import controlplane
import textclf


def test_kubectl_runs_textclf_as_a_plugin(control_plane: controlplane.ControlPlane) -> None:
    plugin = shutil.which("kubectl-textclf")
    assert plugin is not None, "the kubectl-textclf entry point is not installed (pip install -e .)"
    kubectl = str(control_plane.workdir / "bin" / "kubectl")
    env = {
        **os.environ,
        "KUBECONFIG": str(control_plane.kubeconfig),
        "PATH": f"{pathlib.Path(plugin).parent}{os.pathsep}{os.environ['PATH']}",
    }
    listed = subprocess.run(
        [kubectl, "plugin", "list"], env=env, capture_output=True, text=True, check=False
    )
    assert "kubectl-textclf" in listed.stdout, listed.stderr
    name = f"kp-{uuid.uuid4().hex[:8]}"
    client = textclf.Client(kubeconfig=str(control_plane.kubeconfig))
    client.create_app(name)
    try:
        done = subprocess.run(
            [kubectl, "textclf", "apps", "list"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert name in done.stdout.split()
        missing = subprocess.run(
            [kubectl, "textclf", "models", "get", "nosuch", "--app", name],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert missing.returncode == 1
        assert "model 'nosuch' not found" in missing.stderr
    finally:
        client.backend.core.delete_namespace(name)
