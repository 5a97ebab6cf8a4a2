"""Where dataset and artifact URIs live on disk or behind fsspec, and the only module that does their IO.

In the training Pod the operator mounts volumes at fixed roots, which this module owns:

- ``pvc://CLAIM/PATH``       -> ``PVC_ROOT/CLAIM/PATH``       (default ``/mnt/textclf/pvc``)
- ``configmap://NAME/KEY``   -> ``CONFIGMAP_ROOT/NAME/KEY``   (default ``/mnt/textclf/configmap``)

Both roots can be moved with ``TEXTCLF_PVC_ROOT`` / ``TEXTCLF_CONFIGMAP_ROOT`` for local use.
``file:///ABS`` is an absolute path; ``file://REL`` (no third slash) is relative to ``base_dir``, the
folder of the run file for ``textclf train --local`` and the working directory otherwise.
``s3://`` and ``https://`` go through fsspec (s3fs reads credentials from the usual AWS environment).
Missing files and paths that escape their root are the user's error; other IO failures are
infrastructure errors, which the Job may retry.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import tempfile
from typing import Any

import fsspec

from textclf.api import channels
from textclf_trainer import artifacts, errors

PVC_ROOT = channels.PVC_MOUNT_ROOT
"""Where the operator mounts the claim of a ``pvc://CLAIM/...`` URI (at ``PVC_ROOT/CLAIM``)."""
CONFIGMAP_ROOT = channels.CONFIGMAP_MOUNT_ROOT
"""Where the operator mounts the ConfigMap of ``configmap://NAME/KEY`` (at ``CONFIGMAP_ROOT/NAME``)."""
PVC_ROOT_ENV = "TEXTCLF_PVC_ROOT"
CONFIGMAP_ROOT_ENV = "TEXTCLF_CONFIGMAP_ROOT"
REMOTE_SCHEMES = ("s3", "https", "http")


def pvc_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get(PVC_ROOT_ENV, PVC_ROOT))


def configmap_root() -> pathlib.Path:
    return pathlib.Path(os.environ.get(CONFIGMAP_ROOT_ENV, CONFIGMAP_ROOT))


def scheme_of(uri: str) -> str:
    return uri.split("://", 1)[0].lower() if "://" in uri else ""


def is_remote(uri: str) -> bool:
    return scheme_of(uri) in REMOTE_SCHEMES


def _under(root: pathlib.Path, rest: str, uri: str) -> pathlib.Path:
    parts = rest.strip("/")
    if not parts:
        raise errors.data_unreadable(f"{uri}: expected {scheme_of(uri)}://NAME/PATH")
    path = (root / parts).resolve()
    if not path.is_relative_to(root.resolve()):
        raise errors.data_unreadable(f"{uri}: the path leaves its volume")
    return path


def local_path(uri: str, base_dir: pathlib.Path | None = None) -> pathlib.Path | None:
    """The local path of a ``file://``, ``pvc://`` or ``configmap://`` URI (or a bare path); None if remote."""
    scheme = scheme_of(uri)
    if scheme == "":
        return pathlib.Path(uri)
    rest = uri.split("://", 1)[1]
    if scheme == "file":
        path = pathlib.Path(rest)
        return path if path.is_absolute() else (base_dir or pathlib.Path.cwd()) / path
    if scheme == "pvc":
        return _under(pvc_root(), rest, uri)
    if scheme == "configmap":
        return _under(configmap_root(), rest, uri)
    if scheme in REMOTE_SCHEMES:
        return None
    raise errors.data_unreadable(f"{uri}: unsupported URI scheme {scheme!r}")


def _network_failure(exc: BaseException) -> bool:
    """fsspec's HTTP driver reports a refused connection as FileNotFoundError caused by an OSError
    (aiohttp's connector errors); a real 404 is caused by a response error, which is no OSError."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError)


def read_bytes(uri: str, base_dir: pathlib.Path | None = None) -> bytes:
    """The whole content of a dataset file."""
    path = local_path(uri, base_dir)
    try:
        if path is not None:
            return path.read_bytes()
        with fsspec.open(uri, "rb") as handle:
            data: bytes = handle.read()
            return data
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        if _network_failure(exc):
            raise errors.InfrastructureError(f"{uri}: could not connect ({exc.__cause__})") from exc
        raise errors.data_unreadable(f"{uri}: no such file") from exc
    except PermissionError as exc:
        raise errors.data_unreadable(f"{uri}: permission denied") from exc
    except ImportError as exc:
        raise errors.InfrastructureError(f"{uri}: no fsspec driver in this image ({exc})") from exc
    except OSError as exc:
        raise errors.InfrastructureError(f"{uri}: could not read ({exc})") from exc


def _owner(raw: str | bytes | None) -> dict[str, str] | None:
    """The identity in an artifact's ``run.json`` (None when it has none or it does not parse)."""
    if raw is None:
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _refuse_unless_own(uri: str, existing: dict[str, str] | None, mine: dict[str, str]) -> None:
    """A folder that is not empty takes this artifact only if an attempt of the same run wrote it
    (a retry, or the same local run again): no run overwrites another's artifact."""
    if existing == mine:
        return
    if existing is None:
        what = "is not empty and holds no artifact of this run"
    else:
        run = "/".join(x for x in (existing.get("namespace"), existing.get("name")) if x)
        uid = f", uid {existing['uid']}" if existing.get("uid") else ""
        what = f"holds the artifact of another run ({run}{uid})"
    raise errors.invalid_params(
        f"output.uri {uri}: the folder {what}; runs never overwrite each other's artifacts: "
        "choose an empty folder, or leave spec.output out to write to this run's own folder of "
        "the artifact store"
    )


def _check_owner(fs: Any, root: str, uri: str, mine: dict[str, str]) -> bool:
    """Whether ``root`` holds anything, refusing it unless this run wrote it."""
    if not (fs.exists(root) and fs.ls(root)):
        return False
    marker = f"{root}/{artifacts.RUN}"
    _refuse_unless_own(uri, _owner(fs.cat_file(marker) if fs.exists(marker) else None), mine)
    return True


def check_output(uri: str, base_dir: pathlib.Path | None, mine: dict[str, str]) -> None:
    """Fail before any training when ``uri`` holds what this run may not replace (``publish``
    checks again, for a run that started writing there meanwhile)."""
    path = local_path(uri, base_dir)
    try:
        if path is not None:
            _check_owner(fsspec.filesystem("file"), str(path), uri, mine)
        else:
            fs, root = fsspec.core.url_to_fs(uri)
            _check_owner(fs, root.rstrip("/"), uri, mine)
    except ImportError as exc:
        raise errors.InfrastructureError(f"{uri}: no fsspec driver in this image ({exc})") from exc
    except OSError as exc:
        raise errors.InfrastructureError(f"{uri}: could not read the output ({exc})") from exc


def _replace_local(local_dir: pathlib.Path, path: pathlib.Path, uri: str) -> None:
    """Copy next to the target, then swap: a reader never sees half an artifact."""
    _check_owner(fsspec.filesystem("file"), str(path), uri, _own(local_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    shutil.copytree(local_dir, staging, dirs_exist_ok=True)
    if path.exists():
        shutil.rmtree(path)
    staging.rename(path)


def _own(local_dir: pathlib.Path) -> dict[str, str]:
    marker = local_dir / artifacts.RUN
    return (_owner(marker.read_text()) if marker.exists() else None) or {}


def publish_remote(fs: Any, root: str, local_dir: pathlib.Path, uri: str) -> None:
    """Upload to an object store, which has no rename: the run's ``run.json`` first, the files, then
    ``SHA256SUMS`` last. A reader loads only a sealed folder (``artifacts.check``), so an upload cut
    short is never taken for an artifact, and the next attempt of the run replaces it."""
    root = root.rstrip("/")
    if _check_owner(fs, root, uri, _own(local_dir)):
        fs.rm(root, recursive=True)
    files = sorted(p.relative_to(local_dir).as_posix() for p in local_dir.rglob("*") if p.is_file())
    middle = [f for f in files if f not in (artifacts.RUN, artifacts.SUMS)]
    for name in [artifacts.RUN, *middle, artifacts.SUMS]:
        fs.put_file(str(local_dir / name), f"{root}/{name}")


def publish(local_dir: pathlib.Path, uri: str, base_dir: pathlib.Path | None = None) -> str:
    """Publish a sealed artifact folder (with its ``run.json``) at ``uri``, atomically, never over
    another run's; returns the URI as it should be reported."""
    path = local_path(uri, base_dir)
    try:
        if path is not None:
            _replace_local(local_dir, path, uri)
            return uri if scheme_of(uri) == "pvc" else path.resolve().as_uri()
        fs, root = fsspec.core.url_to_fs(uri)
        publish_remote(fs, root, local_dir, uri)
        return uri
    except ImportError as exc:
        raise errors.InfrastructureError(f"{uri}: no fsspec driver in this image ({exc})") from exc
    except OSError as exc:
        raise errors.InfrastructureError(f"{uri}: could not write the artifact ({exc})") from exc


def fetch_dir(uri: str, base_dir: pathlib.Path | None = None) -> pathlib.Path:
    """A local folder holding the artifact at ``uri`` (downloaded to a temporary folder if remote)."""
    path = local_path(uri, base_dir)
    if path is not None:
        return path
    target = pathlib.Path(tempfile.mkdtemp(prefix="textclf-artifact-"))
    try:
        fs, root = fsspec.core.url_to_fs(uri)
        fs.get(root.rstrip("/") + "/", str(target) + "/", recursive=True)
    except OSError as exc:
        raise errors.InfrastructureError(f"{uri}: could not download the artifact ({exc})") from exc
    return target
