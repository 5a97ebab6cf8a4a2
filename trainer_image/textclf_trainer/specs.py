"""Reads the run file the trainer is given: a TrainingRun spec, or a whole TrainingRun object, in YAML or JSON.

In the Pod the path comes from ``TEXTCLF_RUN_SPEC`` (``channels.RUN_SPEC_ENV``); ``textclf train --local``
passes its ``-f`` file. A spec that breaks the API model is a user error (``INVALID_PARAMS``) whose message
names the field, as the API server would.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any

import pydantic
import yaml

from textclf.api import channels, trainingrun
from textclf_trainer import errors


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """A validated spec, the run's name and the folder relative ``file://`` URIs start from; on a
    cluster also its namespace and uid, which mark its artifact as its own."""

    name: str
    spec: trainingrun.TrainingRunSpec
    base_dir: pathlib.Path
    namespace: str = ""
    uid: str = ""

    @property
    def output_uri(self) -> str:
        """Where the artifact goes: the operator fills ``spec.output`` from its artifact store when
        the run leaves it out, ``textclf train --local`` from the run's folder."""
        if self.spec.output is None:
            raise errors.invalid_params("spec.output: the run says nowhere to write its artifact")
        return str(self.spec.output.uri)

    def identity(self) -> dict[str, str]:
        """Who wrote an artifact (``artifacts.RUN``): two attempts of one run share it, no two runs."""
        return {
            "kind": trainingrun.KIND,
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
        }


def parse(document: Any, *, default_name: str, base_dir: pathlib.Path) -> LoadedRun:
    """Validate a parsed document (a TrainingRun object or only its spec)."""
    if not isinstance(document, dict):
        raise errors.invalid_params("the run file must hold a TrainingRun object or its spec")
    name, namespace, uid = default_name, "", ""
    body = document
    if "spec" in document:
        meta = document.get("metadata") or {}
        name = str(meta.get("name") or default_name)
        namespace, uid = str(meta.get("namespace") or ""), str(meta.get("uid") or "")
        body = document["spec"]
    try:
        spec = trainingrun.TrainingRunSpec.model_validate(body)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise errors.invalid_params(f"invalid TrainingRun spec: {problems}") from exc
    return LoadedRun(name=name, spec=spec, base_dir=base_dir, namespace=namespace, uid=uid)


def read_document(path: pathlib.Path) -> Any:
    """The YAML or JSON content of a run file (JSON is YAML)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise errors.InfrastructureError(f"cannot read the run spec {path.name}: {exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise errors.invalid_params(
            f"the run spec {path.name} is not valid YAML/JSON: {exc}"
        ) from exc


def load(path: pathlib.Path, base_dir: pathlib.Path | None = None) -> LoadedRun:
    """Read and validate a run file; relative ``file://`` URIs resolve against ``base_dir``."""
    return parse(
        read_document(path),
        default_name=path.stem,
        base_dir=base_dir if base_dir is not None else path.parent,
    )


def load_from_env() -> LoadedRun:
    """The run mounted by the operator; relative URIs resolve against the working directory."""
    value = os.environ.get(channels.RUN_SPEC_ENV)
    if not value:
        raise errors.InfrastructureError(f"{channels.RUN_SPEC_ENV} is not set")
    return load(pathlib.Path(value), base_dir=pathlib.Path.cwd())
