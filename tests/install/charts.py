"""Renders the Helm chart with the real helm binary: for the install tests, for the operator's RBAC test
(``operator_rules``), and for ``deploy/`` (``python -m tests.install.charts deploy``, what
``make manifests`` runs).

``deploy/crds.yaml`` holds the CRDs, ``deploy/textclf-operator.yaml`` a Namespace and everything else,
rendered with the chart's defaults (cluster-wide) but the TrainingTemplates as plain objects, not Helm
hooks. Both keep helm's ``# Source:`` lines and the chart's comments (the RBAC rules say who needs them).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

import yaml

try:
    import controlplane
except ModuleNotFoundError:  # run as `python -m`, without pytest's pythonpath
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "hack" / "controlplane"))
    import controlplane

REPO = pathlib.Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "textclf-operator"
DEPLOY = REPO / "deploy"
RELEASE = "textclf-operator"
NAMESPACE = "textclf-system"
DEPLOY_VALUES: dict[str, Any] = {"trainingTemplates": {"hook": False}}
"""The chart's defaults, but the templates as plain objects: kubectl and kustomize know no hooks."""

KIND_ORDER = (
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "NetworkPolicy",
    "Deployment",
    "ServiceMonitor",
    "TrainingTemplate",
)


def helm() -> pathlib.Path:
    """The helm binary shipped with the dev extra (see hack/controlplane)."""
    return controlplane.client_tools() / "helm"


def kubectl() -> pathlib.Path:
    return controlplane.client_tools() / "kubectl"


def template(
    values: dict[str, Any] | None = None,
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    extra: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """``helm template`` of the chart with ``values`` (output captured, no check)."""
    with tempfile.TemporaryDirectory() as tmp:
        values_file = pathlib.Path(tmp) / "values.json"
        values_file.write_text(json.dumps(values or {}))
        return subprocess.run(
            [
                str(helm()),
                "template",
                release,
                str(CHART),
                f"--namespace={namespace}",
                f"--values={values_file}",
                *extra,
            ],
            capture_output=True,
            text=True,
            check=False,
        )


def documents(text: str) -> list[tuple[str, dict[str, Any]]]:
    """A multi-document YAML stream as (its text, the object) pairs, empty documents left out."""
    found = []
    for raw in text.split("\n---\n"):
        chunk = raw.removeprefix("---\n").strip("\n")
        obj = yaml.safe_load(chunk)
        if isinstance(obj, dict):
            found.append((chunk + "\n", obj))
    return found


def render(
    values: dict[str, Any] | None = None,
    *,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    extra: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The chart's objects for ``values``; raises with helm's message when it refuses them."""
    done = template(values, release=release, namespace=namespace, extra=extra)
    if done.returncode != 0:
        raise RuntimeError(f"helm template failed:\n{done.stderr}")
    return [obj for _, obj in documents(done.stdout)]


def operator_rules(
    values: dict[str, Any] | None = None, *, release: str = RELEASE
) -> tuple[list[dict[str, Any]], str]:
    """Every RBAC rule the chart grants the operator for ``values``, and its ServiceAccount's name.

    Rules of the operator's ClusterRole and of its Roles (one per watched namespace), each as a dict
    with ``apiGroups``, ``resources``, ``verbs`` and, for a Role's rules, ``namespace``.
    """
    objs = render(values, release=release)
    account = next(o for o in objs if o["kind"] == "Deployment")["spec"]["template"]["spec"][
        "serviceAccountName"
    ]
    bound = {
        (b["roleRef"]["kind"], b["roleRef"]["name"], b["metadata"].get("namespace"))
        for b in objs
        if b["kind"] in ("ClusterRoleBinding", "RoleBinding")
        and any(s["kind"] == "ServiceAccount" and s["name"] == account for s in b["subjects"])
    }
    rules: list[dict[str, Any]] = []
    for role in objs:
        if (
            role["kind"] == "ClusterRole"
            and ("ClusterRole", role["metadata"]["name"], None) in bound
        ):
            rules.extend(dict(rule) for rule in role["rules"])
        elif role["kind"] == "Role":
            where = role["metadata"]["namespace"]
            if ("Role", role["metadata"]["name"], where) in bound:
                rules.extend({**rule, "namespace": where} for rule in role["rules"])
    return rules, str(account)


def _kind_rank(obj: dict[str, Any]) -> int:
    kind = obj["kind"]
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def deploy_manifests() -> dict[str, str]:
    """The contents of ``deploy/``'s rendered files, by file name."""
    done = template(DEPLOY_VALUES, extra=("--skip-tests",))
    if done.returncode != 0:
        raise RuntimeError(f"helm template failed:\n{done.stderr}")
    docs = sorted(documents(done.stdout), key=lambda pair: _kind_rank(pair[1]))
    command = (
        f"helm template {RELEASE} charts/textclf-operator --namespace {NAMESPACE} --skip-tests "
        "--set trainingTemplates.hook=false"
    )
    header = (
        "# Rendered from charts/textclf-operator by `make manifests`\n"
        f"# ({command}); do not edit.\n"
    )
    namespace = (
        "# The operator's namespace; its Pod meets the restricted Pod Security Standard.\n"
        "apiVersion: v1\nkind: Namespace\nmetadata:\n"
        f"  name: {NAMESPACE}\n  labels:\n"
        "    app.kubernetes.io/part-of: textclf\n"
        "    pod-security.kubernetes.io/enforce: restricted\n"
    )
    crds = [text for text, obj in docs if obj["kind"] == "CustomResourceDefinition"]
    rest = [namespace] + [text for text, obj in docs if obj["kind"] != "CustomResourceDefinition"]
    return {
        "crds.yaml": header + "---\n" + "---\n".join(crds),
        "textclf-operator.yaml": header + "---\n" + "---\n".join(rest),
    }


TEMPLATES = CHART / "files" / "templates"


def chart_templates() -> dict[str, str]:
    """File name -> text of each default TrainingTemplate's spec (less image), generated from the
    trainer's registry (``textclf_trainer.catalogue``, which imports no torch)."""
    from textclf_trainer import catalogue  # noqa: PLC0415 - only this command needs the trainer

    files = {}
    for name in catalogue.names():
        spec = catalogue.training_template(name, image="_").model_dump(
            by_alias=True, exclude_none=True, mode="json"
        )["spec"]
        del spec["image"]
        header = (
            f"# The `{name}` TrainingTemplate's spec without `image` (the chart sets it from "
            "trainingTemplates.image).\n# Generated from the trainer's registry "
            "(textclf_trainer.catalogue) by `make manifests`; do not edit by hand.\n"
        )
        files[f"{name}.yaml"] = header + yaml.safe_dump(spec, sort_keys=False, width=100)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the chart's default TrainingTemplates from the trainer's registry, then "
        "render the chart into plain manifests."
    )
    parser.add_argument("out", type=pathlib.Path, nargs="?", default=DEPLOY)
    args = parser.parse_args(argv)
    for name, text in chart_templates().items():
        (TEMPLATES / name).write_text(text)
        print(f"wrote {TEMPLATES / name}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in deploy_manifests().items():
        (args.out / name).write_text(text)
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
