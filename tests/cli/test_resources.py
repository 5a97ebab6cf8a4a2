"""The resource commands (apps, datasets, models, templates) driven as a user types them, on the
embedded backend: each prints what the SDK call returns, and refuses bad input with a clear line."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import yaml

from tests.trainer import runs

IMDB = runs.REPO / "examples" / "data" / "clarifai_imdb"


def _textclf(home: pathlib.Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "textclf.cli.main", *args, "--local", "--home", str(home)],
        capture_output=True,
        text=True,
        env={**os.environ},
        check=False,
        cwd=home.parent,
    )


def _ok(home: pathlib.Path, *args: str) -> str:
    done = _textclf(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_apps_datasets_models_templates(tmp_path: pathlib.Path) -> None:
    home = tmp_path / "home"
    assert _ok(home, "apps", "create", "demo") == "app demo created\n"
    assert _ok(home, "apps", "list") == "demo\n"

    uploaded = _ok(
        home, "datasets", "upload", str(IMDB / "train.csv"), "--app", "demo", "--id", "text-dataset"
    )
    assert "dataset text-dataset: 200 of 200 rows usable" in uploaded
    assert "neg 120, pos 80" in uploaded
    bad = tmp_path / "bad.csv"
    bad.write_text("review,sentiment\nfine,pos\n")
    refused = _textclf(home, "datasets", "upload", str(bad), "--app", "demo")
    assert refused.returncode == 2
    assert "header review,sentiment has neither input,concepts or text,label" in refused.stderr
    stored = home / "apps" / "demo" / "datasets" / "text-dataset" / "data.csv"
    assert f"uri: {stored.as_uri()}" in uploaded
    assert (
        _ok(home, "datasets", "list", "--app", "demo")
        == f"bad\tno data yet\ntext-dataset\t200 rows\t{stored.as_uri()}\n"
    )

    assert (
        _ok(home, "models", "create", "reviews", "--app", "demo")
        == "model reviews created in app demo\n"
    )
    assert _ok(home, "models", "list", "--app", "demo") == "reviews\n"
    assert _ok(home, "models", "get", "reviews", "--app", "demo") == "model reviews (app demo)\n"

    assert {"embedding-logreg", "hf-advanced", "hf-lora"} <= set(
        _ok(home, "templates", "list").split()
    )
    assert _ok(home, "templates", "model-types") == "text-classifier\n"
    shown = _ok(home, "templates", "show", "embedding-logreg", "-o", str(tmp_path / "p.yaml"))
    schema = json.loads(_ok(home, "templates", "show", "embedding-logreg", "--schema"))
    assert schema["additionalProperties"] is False  # what refuses an unknown key by name
    assert "logreg" in schema["properties"]
    assert schema["properties"]["max_length"]["minimum"] == 8
    unknown = _textclf(home, "templates", "show", "no-such-template")
    assert unknown.returncode == 2
    assert "template 'no-such-template' is unknown; known: " in unknown.stderr
    written = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert written == yaml.safe_load(shown)
    assert written["template"] == "embedding-logreg"
    assert "logreg" in written
